from django import template

from backlog.rendering import markdown_html

register = template.Library()


@register.filter
def markdown(text: str):
    """Markdown rendered and sanitized (see backlog/rendering.py)."""
    return markdown_html(text)


@register.filter
def get(mapping, key):
    return mapping.get(key) if hasattr(mapping, "get") else None
