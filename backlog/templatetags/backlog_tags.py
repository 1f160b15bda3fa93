from django import template
from django.utils.html import format_html

from backlog.history import field_label
from backlog.models import Item
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


@register.filter
def drift(places: int | None):
    """How far the scores would move an item (suggested minus actual position), in one format
    everywhere: ▲3 (up), ▼12 (down), nothing when it is where the scores put it."""
    if not places:
        return ""
    up = places < 0
    size = abs(places)
    direction = "up" if up else "down"
    plural = "" if size == 1 else "s"
    words = f"{size} place{plural} {direction}"
    return format_html(
        '<span class="drift-{}" title="The scores would move it {}">{}{}<span class="sr"> {} by score</span></span>',
        direction,
        words,
        "▲" if up else "▼",
        size,
        f"place{plural} {direction}",
    )


@register.filter
def kind_label(kind: str) -> str:
    """An item kind's name for people: "tech_debt" is "Technical debt"."""
    return str(dict(Item.Kind.choices).get(kind, kind))


@register.filter
def get_state(words: dict, state: str) -> str:
    """A roadmap state in words (``delivery.roadmap.STATE_WORDS``)."""
    return words.get(state, state)
