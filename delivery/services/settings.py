"""The product's capacity allocation, Definition of Done and board settings (the owner's)."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import Product, User
from accounts.permissions import Action, lock_product_for, require
from delivery.models import DeliverySettings
from delivery.selectors import delivery_settings_for

SETTINGS_FIELDS = (
    "feature_share",
    "defect_share",
    "debt_share",
    "operational_share",
    "definition_of_done",
    "waiver_debt",
    "wip_limits",
)


def delivery_settings_update(*, product: Product, actor: User, changes: dict[str, Any]) -> DeliverySettings:
    """Change the allocation (shares summing to at most 100 %), the Definition of Done or the board."""
    unknown = set(changes) - set(SETTINGS_FIELDS)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "This field cannot be set."))
    with transaction.atomic():
        product, actions = lock_product_for(actor, product)
        require(actor, Action.MANAGE, product, actions=actions)
        settings = delivery_settings_for(product=product)
        for name, value in changes.items():
            if name == "definition_of_done" and isinstance(value, list):
                value = [entry.strip() if isinstance(entry, str) else entry for entry in value]
            setattr(settings, name, value)
        total = sum(share or 0 for share in settings.shares.values())
        if total > 100:
            raise ValidationError(f"The shares add up to at most 100 %; these add up to {total} %.")
        settings.full_clean(exclude=["product"], validate_constraints=False)
        settings.save()
    return settings
