"""Every service-queue endpoint × role (queues, settings, the queue, the work on a ticket, incident
links, split and merge): allowed or denied, through the real API with real tokens."""

import pytest

from backlog.services.items import item_create

# The world is built once per module (config/tests/matrix.py):
from config.tests.matrix import (  # noqa: F401
    MEMBERS,
    ORDERERS,
    ROLES,
    WORKERS,
    check,
    delegate,
    developer,
    outsider,
    owner,
    product,
    stakeholder,
)
from service.services.tickets import ticket_intake, ticket_wait
from service.tests.factories import QueueFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def world(product, owner, developer):
    """The "database" queue; a P2 ticket waiting on its reporter (so that anyone's "wait" is a
    no-op and "resume" records a reply); a technical debt item to name as its cause; a ticket with
    two occurrences to split and another to merge into it."""
    queue = QueueFactory(product=product, owner=owner, slug="database", name="Database")

    def intake(**fields):
        data = {"title": "Database slow", "urgency": "medium", "affected_users": 10, **fields}
        return ticket_intake(product=product, sender=owner, queue=queue, **data).ticket

    ticket = intake(title="Disk full", affected_users=60, urgency="high", fingerprint="disk")
    ticket_wait(item=ticket.item, actor=owner)
    debt = item_create(product=product, actor=owner, kind="tech_debt", title="Old driver", interest_hours=1)
    first = intake(fingerprint="a", reporter="x")
    intake(fingerprint="a", reporter="y")
    other = intake(fingerprint="b")
    return {
        "key": product.key,
        "ref": ticket.item.key,
        "debt": debt.key,
        "first": first.item.key,
        "occurrence": first.occurrences.get(reporter="y").pk,
        "other": other.item.key,
        "developer": developer.username,
    }


CASES = {
    # name: (method, url template, body, allowed roles, ok status, read-only?)
    "queue list": ("get", "/api/v1/products/{key}/queues/", None, MEMBERS, 200, True),
    "queue detail": ("get", "/api/v1/products/{key}/queues/database/", None, MEMBERS, 200, True),
    "queue create": (
        "post",
        "/api/v1/products/{key}/queues/",
        {"slug": "access", "name": "Access", "owner": "{developer}"},
        {"owner"},
        201,
        False,
    ),
    "queue change": ("patch", "/api/v1/products/{key}/queues/database/", {"name": "DB"}, {"owner"}, 200, False),
    "settings": ("get", "/api/v1/products/{key}/service-settings/", None, MEMBERS, 200, True),
    "settings change": (
        "patch",
        "/api/v1/products/{key}/service-settings/",
        {"lower_priorities": "proposal"},
        {"owner"},
        200,
        False,
    ),
    "service queue": ("get", "/api/v1/products/{key}/service-queue/", None, MEMBERS, 200, True),
    "ticket": ("get", "/api/v1/items/{ref}/ticket/", None, MEMBERS, 200, True),
    "assign": ("post", "/api/v1/items/{ref}/ticket/assign/", {"assignee": "{developer}"}, WORKERS, 200, False),
    "wait": ("post", "/api/v1/items/{ref}/ticket/wait/", {"note": "Which host?"}, WORKERS, 200, False),
    "resume": ("post", "/api/v1/items/{ref}/ticket/resume/", {"note": "db-3"}, MEMBERS, 200, False),  # a reply
    "acknowledge": ("post", "/api/v1/items/{ref}/ticket/acknowledge/", {}, WORKERS, 200, False),
    "resolve": ("post", "/api/v1/items/{ref}/ticket/resolve/", {"note": "Cleaned up"}, WORKERS, 200, False),
    "cause": ("post", "/api/v1/items/{ref}/ticket/cause/", {"cause": "{debt}"}, WORKERS, 200, False),
    "hours lost": ("post", "/api/v1/items/{ref}/ticket/hours-lost/", {"hours_lost": 4.5}, WORKERS, 200, False),
    "incidents": ("get", "/api/v1/items/{debt}/incidents/", None, MEMBERS, 200, True),
    "occurrences": ("get", "/api/v1/items/{first}/ticket/occurrences/", None, MEMBERS, 200, True),
    "split": ("post", "/api/v1/items/{first}/ticket/occurrences/{occurrence}/split/", {}, ORDERERS, 201, False),
    "merge": ("post", "/api/v1/items/{other}/ticket/merge/", {"into": "{first}"}, ORDERERS, 200, False),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES)
def test_every_endpoint_for_every_role(as_role, world, role, case):
    check(CASES[case], role, as_role(role), world)
