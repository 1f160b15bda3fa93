"""Theme writes: create, edit, delete (product owners). Items keep their own theme field, set
through ``item_update`` by those who set value inputs."""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import Product, User
from accounts.permissions import Action, lock_product_for, require
from backlog.models import Theme
from backlog.services.items import one_line_ending

THEME_FIELDS = ("title", "description", "colour", "target_date")
MAX_THEMES = 100  # per product: the roadmap shows them all on one page


def _save(theme: Theme) -> Theme:
    theme.title = theme.title.strip()
    theme.description = one_line_ending(theme.description)
    theme.full_clean(exclude=["product"], validate_unique=False, validate_constraints=False)
    if Theme.objects.filter(product_id=theme.product_id, title__iexact=theme.title).exclude(pk=theme.pk).exists():
        raise ValidationError({"title": f"{theme.product.key} has a theme called {theme.title!r} already."})
    try:
        with transaction.atomic():
            theme.save()
    except IntegrityError as clash:
        raise ValidationError({"title": "A theme of that title exists already."}) from clash
    return theme


def theme_create(
    *,
    product: Product,
    actor: User,
    title: str,
    description: str = "",
    colour: str = "#3366cc",
    target_date: date | None = None,
) -> Theme:
    with transaction.atomic():
        product, actions = lock_product_for(actor, product)
        require(actor, Action.MANAGE, product, actions=actions)
        if Theme.objects.filter(product=product).count() >= MAX_THEMES:
            raise ValidationError({"title": f"A product has at most {MAX_THEMES} themes."})
        theme = Theme(product=product, title=title, description=description, colour=colour, target_date=target_date)
        return _save(theme)


def theme_update(*, theme: Theme, actor: User, changes: dict) -> Theme:
    unknown = set(changes) - set(THEME_FIELDS)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "This field cannot be set."))
    with transaction.atomic():
        product, actions = lock_product_for(actor, theme.product_id)
        require(actor, Action.MANAGE, product, actions=actions)
        current = Theme.objects.select_for_update().get(pk=theme.pk)
        current.product = product
        for name, value in changes.items():
            setattr(current, name, value)
        return _save(current)


def theme_delete(*, theme: Theme, actor: User) -> None:
    """Delete the theme; its items stay, without a theme."""
    with transaction.atomic():
        product, actions = lock_product_for(actor, theme.product_id)
        require(actor, Action.MANAGE, product, actions=actions)
        Theme.objects.filter(pk=theme.pk).delete()
