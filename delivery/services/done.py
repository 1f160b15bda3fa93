"""An item becoming done: the Definition of Done, its waivers and the debt they create, and the
sprint the item was done in."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.permissions import Action, lock_product_for, require
from backlog.history import DefinitionOfDone
from backlog.models import Item
from backlog.services.items import item_create, item_transition, item_transition_locked
from backlog.services.ordering import Placement
from delivery.models import DeliverySettings, DodWaiver, Sprint, SprintItem
from delivery.selectors import delivery_settings_for

MAX_INTEREST_HOURS = Decimal("99999.9")


def on_item_done(*, item: Item, actor: User, definition_of_done: DefinitionOfDone | None) -> None:
    """Backlog's done hook: refuse a change that skipped the Definition of Done; remember the sprint."""
    settings = delivery_settings_for(product=item.product)
    if settings.definition_of_done and definition_of_done is None:
        raise ValidationError(
            {
                "status": (
                    f"{item.product.key} has a Definition of Done: check each entry or waive it with a "
                    f"reason (POST /api/v1/items/{item.key}/done/, or the item's Done page)."
                )
            }
        )
    SprintItem.objects.filter(item=item, sprint__state=Sprint.State.ACTIVE, done_at__isnull=True).update(
        done_at=timezone.now()
    )


def _checklist_errors(entries: list[str], checked: list[str], waivers: dict[str, str]) -> list[str]:
    known = set(entries)
    errors = [f"'{entry}' is not in the Definition of Done." for entry in [*checked, *waivers] if entry not in known]
    errors += [f"'{entry}' is both checked and waived: choose one." for entry in waivers if entry in set(checked)]
    for entry in entries:
        if entry in checked:
            continue
        if entry not in waivers:
            errors.append(f"'{entry}' is not checked: check it, or waive it with a reason.")
        elif not str(waivers[entry]).strip():
            errors.append(f"Say why '{entry}' is waived.")
    return errors


def item_done(
    *,
    item: Item,
    actor: User,
    checked: list[str],
    waivers: dict[str, str],
    interest_hours: dict[str, Decimal] | None = None,
    expected_version: int | None = None,
) -> tuple[Item, list[DodWaiver]]:
    """Mark an in-progress item done against the Definition of Done.

    Every entry is ``checked`` or waived (``waivers``: entry → reason). Each waiver creates a
    technical-debt item, proposed or placed at the bottom as the product says, its value case from
    the waiver (``interest_hours``: entry → hours lost per sprint, 0 when not given).
    """
    interest_hours = interest_hours or {}
    with transaction.atomic():
        product, actions = lock_product_for(actor, item.product_id)
        require(actor, Action.EDIT_WORK, product, actions=actions)
        current = Item.objects.select_for_update(of=("self",)).get(pk=item.pk)
        current.product = product
        current.check_version(expected_version)
        settings = delivery_settings_for(product=product)
        entries = list(settings.definition_of_done)
        errors = _checklist_errors(entries, checked, waivers)
        bad_hours = [entry for entry, hours in interest_hours.items() if entry not in waivers]
        errors += [f"Interest is given only for a waived entry, not for '{entry}'." for entry in bad_hours]
        if errors:
            raise ValidationError({"waivers": errors})
        reasons = {entry: waivers[entry].strip() for entry in entries if entry in waivers}
        done = item_transition_locked(
            item=current,
            actor=actor,
            actions=actions,
            to=Item.Status.DONE,
            definition_of_done={"checked": [e for e in entries if e in checked], "waived": reasons},
        )
        sprint_id = (
            SprintItem.objects.filter(item=done, done_at__isnull=False).values_list("sprint_id", flat=True).first()
        )
        placed = settings.waiver_debt == DeliverySettings.WaiverDebt.PLACED
        created = []
        for entry, reason in reasons.items():
            debt = item_create(
                product=product,
                actor=actor,
                kind=Item.Kind.TECH_DEBT,
                title=f"{done.key}: {entry}"[:200],
                into_order=placed,
                placement=Placement.bottom() if placed else None,
                description=f"'{entry}' of the Definition of Done was waived when {done.key} ({done.title}) was done.",
                interest_hours=interest_hours.get(entry, Decimal(0)),
                value_beneficiaries=f"Everyone relying on {done.key}: it was done without '{entry}'.",
                value_cost_of_delay=f"Waived: {reason}",
                value_risk_removed=f"The risk taken on by releasing {done.key} without '{entry}'.",
            )
            created.append(
                DodWaiver.objects.create(
                    item=done, sprint_id=sprint_id, entry=entry, reason=reason, debt_item=debt, actor=actor
                )
            )
    return done, created


def item_start(*, item: Item, actor: User, expected_version: int | None = None) -> Item:
    """Start an open item (the board's open → in progress), refusing a stale version (If-Match)."""
    return item_transition(item=item, actor=actor, to=Item.Status.IN_PROGRESS, expected_version=expected_version)
