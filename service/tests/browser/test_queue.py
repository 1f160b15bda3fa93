"""End to end in a real Chromium: a ticket sent with the form, a surge sent through the API shown
as one item with its count, and a developer working the queue with its clocks in view."""

import re

import pytest
from playwright.sync_api import expect
from rest_framework.test import APIClient

from service.models import Ticket
from service.services.tokens import intake_token_create
from service.tests.factories import QueueFactory

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def database(product, owner):
    return QueueFactory(product=product, owner=owner, slug="database", name="Database")


def row(page, ticket: Ticket):
    return page.locator(f'tr[data-ticket="{ticket.item.key}"]')


def test_a_member_sends_a_ticket_with_the_form(page_as, product, stakeholder, database):
    page = page_as(stakeholder, f"/p/{product.key}/service/new/")
    page.get_by_label("Title").fill("Reports page times out")
    page.get_by_label("Affected users").fill("1200")
    page.get_by_label("Urgency").select_option("medium")
    page.get_by_label("Fingerprint").fill("reports-timeout")
    page.get_by_role("button", name="Send ticket").click()
    expect(page.locator(".messages")).to_contain_text("as P2")
    ticket = Ticket.objects.get()
    expect(row(page, ticket)).to_contain_text("impact high × urgency medium = P2")
    expect(row(page, ticket).locator('[data-clock="response"]')).to_contain_text("left")


def test_a_surge_through_the_api_shows_as_one_item_with_its_count(page_as, product, owner, developer, database):
    _, raw = intake_token_create(product=product, actor=owner, name="alertmanager")
    sender = APIClient()
    sender.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    body = {"title": "Checkout 502", "queue": "database", "urgency": "high", "affected_users": 20, "fingerprint": "co"}
    statuses = [
        sender.post(f"/api/v1/products/{product.key}/intake/", body, format="json").status_code for _ in range(60)
    ]
    assert statuses == [201] + [200] * 59
    page = page_as(developer, f"/p/{product.key}/service/")
    rows = page.locator("tr[data-ticket]")
    expect(rows).to_have_count(1)
    expect(rows.first.locator("[data-occurrences]")).to_have_text("60")
    expect(rows.first).to_contain_text("P1")  # 1,200 affected users: high impact × high urgency


def test_a_developer_works_the_queue(page_as, product, owner, developer, database):
    from service.services.tickets import ticket_intake

    ticket = ticket_intake(
        product=product, sender=owner, queue=database, title="Disk full on db-2", urgency="high", affected_users=80
    ).ticket
    page = page_as(developer, f"/p/{product.key}/service/")
    current = row(page, ticket)
    expect(current.locator('[data-clock="response"]')).to_have_text(re.compile(r"^\d+ (h \d+ )?min left$"))
    current.get_by_role("button", name="Acknowledge").click()
    expect(page.locator(".messages")).to_contain_text("acknowledged")
    expect(row(page, ticket).locator('[data-clock="response"]')).to_have_text("met")
    row(page, ticket).get_by_role("button", name="Wait for reporter").click()
    expect(row(page, ticket)).to_contain_text("waiting on reporter")
    expect(row(page, ticket).locator('[data-clock="resolution"]')).to_contain_text("(waiting)")
    row(page, ticket).get_by_role("button", name="Reporter replied").click()
    expect(row(page, ticket).locator('[data-clock="resolution"]')).not_to_contain_text("waiting")
    row(page, ticket).get_by_role("button", name="Resolve").click()
    expect(page.locator(".messages")).to_contain_text("resolved")
    expect(page.locator("tr[data-ticket]")).to_have_count(0)
    assert Ticket.objects.get(pk=ticket.pk).item.status == "done"
