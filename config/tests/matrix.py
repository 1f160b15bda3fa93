"""The role × endpoint matrices' shared vocabulary: each app's ``api/test_permissions_matrix.py``
lists its own endpoints as rows ``name: (method, url template, body, allowed roles, ok status,
read-only?)`` and checks every row for every role of ``ROLES`` with :func:`check`. The world
they share (a product with items, a proposal, a question, a comment) is the root conftest's
``matrix_names`` fixture."""

from backlog.models import Item

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
