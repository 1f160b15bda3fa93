"""The intake form and the queue page, through HTTP as members and outsiders."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.test import Client

from backlog.models import Item
from service.models import Ticket
from service.services.tickets import clocks_check

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_member_sends_a_ticket_with_the_form(product, stakeholder, queue):
    client = client_for(stakeholder)
    url = f"/p/{product.key}/service/new/"
    assert "Send ticket" in client.get(url).content.decode()
    response = client.post(
        url,
        {"title": "VPN down", "queue": "database", "affected_users": "2000", "urgency": "high", "fingerprint": "vpn"},
    )
    assert response.status_code == 302 and response.url == f"/p/{product.key}/service/"
    ticket = Ticket.objects.get()
    assert (ticket.item.title, ticket.item.itil_priority, ticket.item.created_by) == ("VPN down", 1, stakeholder)
    again = client.post(
        url,
        {"title": "VPN still down", "queue": "database", "affected_users": "5", "urgency": "low", "fingerprint": "vpn"},
        follow=True,
    )
    assert "2 occurrences" in again.content.decode()
    assert Item.objects.count() == 1


def test_the_form_shows_what_to_fix(product, developer, queue):
    response = client_for(developer).post(
        f"/p/{product.key}/service/new/", {"title": "", "queue": "database", "urgency": "soon"}
    )
    assert response.status_code == 200
    assert "Please correct the fields marked below." in response.content.decode()
    assert Ticket.objects.count() == 0


def test_outsiders_get_404_and_strangers_the_login(product, outsider, queue, intake):
    ticket = intake().ticket
    client = client_for(outsider)
    assert client.get(f"/p/{product.key}/service/").status_code == 404
    assert client.get(f"/p/{product.key}/service/new/").status_code == 404
    assert client.post(f"/p/{product.key}/service/{ticket.item.number}/acknowledge/").status_code == 404
    assert Client().get(f"/p/{product.key}/service/").status_code == 302


def test_the_queue_page_lists_interrupts_first_and_marks_breaches(product, developer, intake):
    with time_machine.travel(datetime(2026, 3, 2, 9, tzinfo=UTC), tick=False):
        breached = intake(title="Payments failing", affected_users=2000, urgency="medium").ticket
    low = intake(title="Typo on status page", affected_users=1, urgency="low").ticket
    clocks_check()
    page = client_for(developer).get(f"/p/{product.key}/service/").content.decode()
    assert page.index("Payments failing") < page.index("Typo on status page")
    row = page[page.index(f'data-ticket="{breached.item.key}"') :]
    assert "SLA breached" in row[: row.index("</tr>")] and "interrupt" in row[: row.index("</tr>")]
    assert "breached by" in row[: row.index("</tr>")]
    assert f'data-ticket="{low.item.key}"' in page
    assert "Acknowledge" in page


def test_a_developer_works_a_ticket_from_the_page(product, developer, intake):
    ticket = intake(title="Disk full").ticket
    client = client_for(developer)
    base = f"/p/{product.key}/service/{ticket.item.number}"
    client.post(f"{base}/acknowledge/")
    client.post(f"{base}/wait/", {"note": "Which host?"})
    assert Ticket.objects.get(pk=ticket.pk).waiting
    client.post(f"{base}/resume/")
    client.post(f"{base}/assign/", {"assignee": developer.username})
    response = client.post(f"{base}/resolve/", {"next": f"/p/{product.key}/service/?queue=database"})
    assert response.url == f"/p/{product.key}/service/?queue=database"
    ticket = Ticket.objects.get(pk=ticket.pk)
    assert (ticket.item.status, ticket.assignee, ticket.waiting) == ("done", developer, False)


def test_stakeholders_see_the_queue_but_do_not_work_it(product, stakeholder, intake):
    ticket = intake().ticket
    client = client_for(stakeholder)
    assert "Acknowledge" not in client.get(f"/p/{product.key}/service/").content.decode()
    response = client.post(f"/p/{product.key}/service/{ticket.item.number}/acknowledge/", follow=True)
    assert "may not edit work" in response.content.decode()
    assert Ticket.objects.get(pk=ticket.pk).responded_at is None


def test_an_outside_next_address_is_ignored(product, developer, intake):
    ticket = intake().ticket
    response = client_for(developer).post(
        f"/p/{product.key}/service/{ticket.item.number}/acknowledge/", {"next": "https://evil.example/"}
    )
    assert response.url == f"/p/{product.key}/service/"


def test_a_developer_links_an_incident_to_its_cause_and_the_cause_shows_it(
    product, owner, developer, outsider, intake, django_capture_on_commit_callbacks
):
    from backlog.services.items import item_create

    debt = item_create(product=product, actor=owner, kind="tech_debt", title="Old driver", interest_hours=1)
    ticket = intake(title="DB connections dropped").ticket
    client = client_for(developer)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/p/{product.key}/service/{ticket.item.number}/incident/", {"cause": debt.key, "hours_lost": "12"})
    page = client.get(f"/p/{product.key}/service/").content.decode()
    assert f'cause: <a href="/p/{product.key}/{debt.number}/incidents/">{debt.key}</a> · 12.0 h lost' in page
    cause = client.get(f"/p/{product.key}/{debt.number}/incidents/").content.decode()
    assert "DB connections dropped" in cause and "2.0 h" in cause  # 12 h over 6 sprints: the interest now
    refused = client.post(
        f"/p/{product.key}/service/{ticket.item.number}/incident/", {"cause": "", "hours_lost": "lots"}, follow=True
    )
    assert "Hours lost are a number" in refused.content.decode()
    assert client_for(outsider).get(f"/p/{product.key}/{debt.number}/incidents/").status_code == 404


def test_a_ticket_page_shows_why_and_its_clocks(product, stakeholder, developer, outsider, intake):
    ticket = intake(title="Disk full", affected_users=60, urgency="high", fingerprint="disk", reporter="ops").ticket
    intake(fingerprint="disk", affected_users=2, reporter="noc")
    page = client_for(stakeholder).get(f"/p/{product.key}/service/{ticket.item.number}/").content.decode()
    assert "impact medium × urgency high = P2" in page and "62 affected users ≥ 50" in page
    assert 'data-clock="response"' in page and "left" in page
    assert page.index("noc") < page.index("ops")  # newest occurrence first
    assert "Acknowledge" not in page  # stakeholders look, developers work
    assert (
        "Acknowledge" in client_for(developer).get(f"/p/{product.key}/service/{ticket.item.number}/").content.decode()
    )
    assert client_for(outsider).get(f"/p/{product.key}/service/{ticket.item.number}/").status_code == 404


def test_the_queue_refreshes_its_rows_in_place(product, developer, intake):
    ticket = intake(title="Disk full").ticket
    partial = client_for(developer).get(f"/p/{product.key}/service/?queue=database", HTTP_HX_REQUEST="true")
    body = partial.content.decode()
    assert body.lstrip().startswith('<div id="tickets"') and "<html" not in body
    assert 'hx-trigger="every 60s"' in body and f'data-ticket="{ticket.item.key}"' in body
