"""A product's service settings: read (created with the defaults on first use) and change."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import Product, User
from accounts.permissions import Action, require
from service.jobs import enqueue_priorities_recalculate
from service.models import ServiceSettings

SETTINGS_FIELDS = (
    "high_impact_users",
    "medium_impact_users",
    "response_minutes",
    "business_hours",
    "time_zone",
    "lower_priorities",
)
MAX_RESPONSE_MINUTES = 60 * 24 * 365


def service_settings_for(product: Product) -> ServiceSettings:
    """The product's service settings (the defaults until an owner changes them)."""
    found, _ = ServiceSettings.objects.get_or_create(product=product)
    return found


def _validate_response_minutes(value) -> None:
    expected = {f"P{n}" for n in range(1, 6)}
    if (
        not isinstance(value, dict)
        or set(value) != expected
        or not all(
            isinstance(minutes, int) and not isinstance(minutes, bool) and 0 < minutes <= MAX_RESPONSE_MINUTES
            for minutes in value.values()
        )
    ):
        raise ValidationError(
            {"response_minutes": f"Give whole minutes from 1 to {MAX_RESPONSE_MINUTES:,} for each of P1 … P5."}
        )


def service_settings_update(*, product: Product, actor: User, changes: dict[str, Any]) -> ServiceSettings:
    """Change the service settings (owners only). New impact thresholds recalculate the open
    tickets' priorities in a job; new targets or hours apply to the clocks from then on."""
    require(actor, Action.MANAGE, product)
    unknown = set(changes) - set(SETTINGS_FIELDS)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "This setting cannot be changed."))
    if "response_minutes" in changes:
        _validate_response_minutes(changes["response_minutes"])
    with transaction.atomic():
        service_settings_for(product)
        current = ServiceSettings.objects.select_for_update().get(product=product)
        before = (current.high_impact_users, current.medium_impact_users)
        for name, value in changes.items():
            setattr(current, name, value)
        current.full_clean()
        current.save()
        if (current.high_impact_users, current.medium_impact_users) != before:
            transaction.on_commit(lambda: enqueue_priorities_recalculate(product.pk), robust=True)
    return current
