"""The role × endpoint matrices' shared vocabulary: each app's ``api/test_permissions_matrix.py``
lists its own endpoints as rows ``name: (method, url template, body, allowed roles, ok status,
read-only?)`` and checks every row for every role of ``ROLES`` with :func:`check`. The world
they share (a product with items, a proposal, a question, a comment) is :func:`matrix_world`,
the root conftest's ``matrix_names`` fixture.

A matrix only reads that world (a refused request must change nothing; an allowed write is rolled
back with its test), so a matrix module builds it once: importing the module-scoped fixtures
below (``from config.tests.matrix import product, owner, ...``) replaces the root conftest's
per-test ones of the same names for that module only (see the root conftest's ``module_db``)."""

import pytest

from accounts.models import Membership
from accounts.tests.factories import MembershipFactory, ProductFactory, UserFactory
from backlog.models import Item
from backlog.services.items import item_create

ROLES = ["owner", "developer", "delegate", "stakeholder", "outsider", "anonymous", "read_only_token"]
MEMBERS = {"owner", "developer", "delegate", "stakeholder"}
ORDERERS = {"owner", "delegate"}
WORKERS = {"owner", "developer", "delegate"}


def expected(role: str, allowed: set[str], ok: int, *, read: bool = False) -> int:
    """The status a role should get: ``ok`` if allowed, else 401 / 404 / 403."""
    if role == "anonymous":
        return 401
    if role == "outsider":
        return 404
    if role == "read_only_token":
        return ok if read else 403
    return ok if role in allowed else 403


def call(client, method: str, url: str, body=None):
    return getattr(client, method)(url, body, format="json") if body is not None else getattr(client, method)(url)


def filled(value, names: dict):
    """``value`` with the {placeholders} of its strings filled in, however deep."""
    if isinstance(value, str):
        return value.format(**names)
    if isinstance(value, list):
        return [filled(v, names) for v in value]
    if isinstance(value, dict):
        return {k: filled(v, names) for k, v in value.items()}
    return value


def _items_state() -> list:
    return list(Item.objects.order_by("pk").values_list("pk", "rank", "status", "version", "description"))


def check(row: tuple, role: str, client, names: dict) -> None:
    """Call the row's endpoint as ``role`` and assert its status; a refusal answers the error body,
    changes no item and, for an outsider, does not even name the product."""
    method, url, body, allowed, ok, read = row
    before = _items_state()
    response = call(client, method, filled(url, names), filled(body, names))
    want = expected(role, allowed, ok, read=read)
    assert response.status_code == want, response.content
    if want >= 400:
        assert set(response.json()["error"]) == {"status", "code", "message", "fields"}
        if not read:
            assert _items_state() == before, "a refused request changed something"
    if role == "outsider" and want == 404:
        assert names["key"] not in response.content.decode()


def matrix_world(product, items, owner, developer, user) -> dict:
    """Three ordered stories, a proposal, a proposal with an open question, a developer's comment,
    and a user of no product; returned as the names the matrices' URL templates use."""
    from refinement.services.comments import comment_create
    from refinement.services.proposals import proposal_ask

    proposal = item_create(product=product, actor=developer, kind="story", title="Proposal")
    asked = item_create(product=product, actor=developer, kind="story", title="Unclear proposal")
    proposal_ask(item=asked, actor=owner, question="Who asked for it?")
    comment = comment_create(item=items[0], actor=developer, body="Hm")
    return {
        "key": product.key,
        "a": items[0].pk,
        "a_key": items[0].key,
        "b": items[1].pk,
        "c": items[2].pk,
        "proposal": proposal.pk,
        "asked": asked.pk,
        "comment": comment.pk,
        "developer": developer.username,
        "newcomer": user.username,
    }


# The world once per module: the root conftest's fixtures of the same names, at module scope.
@pytest.fixture(scope="module")
def product(module_db):
    return ProductFactory()


@pytest.fixture(scope="module")
def owner(product):
    return MembershipFactory(product=product, role=Membership.Role.OWNER).user


@pytest.fixture(scope="module")
def developer(product):
    return MembershipFactory(product=product, role=Membership.Role.DEVELOPER).user


@pytest.fixture(scope="module")
def delegate(product):
    return MembershipFactory(product=product, role=Membership.Role.DEVELOPER, ordering_delegated=True).user


@pytest.fixture(scope="module")
def stakeholder(product):
    return MembershipFactory(product=product, role=Membership.Role.STAKEHOLDER).user


@pytest.fixture(scope="module")
def outsider(module_db):
    return MembershipFactory(role=Membership.Role.OWNER).user  # an owner, but of another product


@pytest.fixture(scope="module")
def user(module_db):
    return UserFactory()


@pytest.fixture(scope="module")
def items(product, owner):
    return [item_create(product=product, actor=owner, kind="story", title=t) for t in "ABC"]


@pytest.fixture(scope="module")
def matrix_names(product, items, owner, developer, user):
    return matrix_world(product, items, owner, developer, user)
