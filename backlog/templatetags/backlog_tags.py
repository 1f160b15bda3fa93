from django import template

from backlog.rendering import markdown_html

register = template.Library()


@register.filter
def markdown(text: str):
    """Markdown rendered and sanitized (see backlog/rendering.py)."""
    return markdown_html(text)


@register.filter
def field_name(name: str) -> str:
    """``time_criticality`` → ``Time criticality``."""
    return str(name).replace("_", " ").capitalize()
