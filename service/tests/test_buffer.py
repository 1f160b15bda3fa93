"""Interrupts draw on the active sprint's operational buffer (the delivery app's allocation)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from backlog.models import Item
from delivery.models import DeliverySettings, Sprint
from service.selectors import interrupt_buffer
from service.services.incidents import ticket_hours_lost_set

pytestmark = pytest.mark.django_db


@pytest.fixture
def sprint(product):
    today = timezone.localdate()
    DeliverySettings.objects.create(product=product, operational_share=10, debt_share=20)
    return Sprint.objects.create(
        product=product,
        number=1,
        name="Sprint 1",
        start_date=today - timedelta(days=3),
        end_date=today + timedelta(days=10),
        capacity=40,
        state=Sprint.State.ACTIVE,
        committed_at=timezone.now(),
    )


def test_no_active_sprint_no_buffer(product):
    assert interrupt_buffer(product=product) is None


def test_interrupts_of_the_sprint_draw_on_its_buffer(product, owner, sprint, intake):
    p1 = intake(title="Outage", affected_users=5000, urgency="high").ticket
    p2 = intake(title="Slow", affected_users=5000, urgency="medium").ticket
    intake(title="Typo", affected_users=1, urgency="low")  # P5: not an interrupt
    Item.objects.filter(pk=p1.pk).update(estimate=3)
    ticket_hours_lost_set(item=p2.item, actor=owner, hours=Decimal("2.5"))
    buffer = interrupt_buffer(product=product)
    assert (buffer.buffer_points, buffer.interrupts, buffer.points, buffer.unestimated) == (4.0, 2, 3, 1)
    assert buffer.hours_lost == Decimal("2.5") and not buffer.over
    Item.objects.filter(pk=p2.pk).update(estimate=2)
    assert interrupt_buffer(product=product).over  # 5 points drawn on a buffer of 4
    client = Client()
    client.force_login(owner)
    page = client.get(f"/p/{product.key}/service/").content.decode()
    assert "operational buffer 4.0 points (10 % of the capacity)" in page and "over the buffer" in page
