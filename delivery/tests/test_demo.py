"""The demo product's delivery: closed sprints with a velocity and a policy history, one active
sprint, a Definition of Done, and a waiver that created a debt item."""

import pytest
from django.core.management import call_command

from accounts.models import Product
from delivery.forecast import velocity
from delivery.models import DodWaiver, RetroAction, Sprint
from delivery.selectors import delivery_settings_for, policy_report
from delivery.services.demo import CLOSED_SPRINTS, DEMO_DEFINITION_OF_DONE

pytestmark = pytest.mark.django_db


def test_the_demo_has_sprints_a_definition_of_done_and_a_waiver(settings):
    settings.DEBUG = True
    call_command("seed_demo", "--items", "150")
    product = Product.objects.get(key="OB")
    states = list(Sprint.objects.filter(product=product).order_by("number").values_list("state", flat=True))
    assert states == ["closed"] * CLOSED_SPRINTS + ["active"]
    assert delivery_settings_for(product=product).definition_of_done == DEMO_DEFINITION_OF_DONE
    speed = velocity(product=product)
    assert len(speed.sprints) == CLOSED_SPRINTS and speed.points > 0
    assert len(policy_report(product=product).sprints) == CLOSED_SPRINTS
    waiver = DodWaiver.objects.get(item__product=product)
    assert waiver.entry == "Performance checked" and waiver.sprint.state == "active"
    assert waiver.debt_item.kind == "tech_debt" and waiver.debt_item.status == "proposed"
    assert RetroAction.objects.filter(sprint__product=product, debt_item__isnull=False).count() == 1
