from django import template

from backlog.history import field_label
from backlog.rendering import markdown_html

register = template.Library()


@register.filter
def markdown(text: str):
    """Markdown rendered and sanitized (see backlog/rendering.py)."""
    return markdown_html(text)


@register.filter
def field_name(name: str) -> str:
    """A field's name for people, capitalized: ``value_beneficiaries`` → ``Who benefits``."""
    label = field_label(str(name))
    return label[:1].upper() + label[1:]
