"""Every backlog endpoint × role (items, ordering, scoring, the suggestion): allowed or denied,
through the real API with real tokens."""

import pytest

from backlog.models import ItemLink, Theme

# The world is built once per module (config/tests/matrix.py):
from config.tests.matrix import (  # noqa: F401
    MEMBERS,
    ORDERERS,
    ROLES,
    WORKERS,
    check,
    delegate,
    developer,
    expected,
    items,
    matrix_world,
    outsider,
    owner,
    product,
    stakeholder,
    user,
)

pytestmark = pytest.mark.django_db

CASES = {
    # name: (method, url template, body, allowed roles, ok status, read-only?)
    "item list": ("get", "/api/v1/products/{key}/items/", None, MEMBERS, 200, True),
    "item create": ("post", "/api/v1/products/{key}/items/", {"kind": "story", "title": "New"}, MEMBERS, 201, False),
    "item create placed": (
        "post",
        "/api/v1/products/{key}/items/",
        {"kind": "story", "title": "New", "placement": {"to": "top"}},
        ORDERERS,
        201,
        False,
    ),
    "item detail": ("get", "/api/v1/items/{a}/", None, MEMBERS, 200, True),
    "item detail by key": ("get", "/api/v1/items/{a_key}/", None, MEMBERS, 200, True),
    "item edit work": ("patch", "/api/v1/items/{a}/", {"description": "More detail"}, WORKERS, 200, False),
    "item edit value": ("patch", "/api/v1/items/{a}/", {"business_value": 8}, ORDERERS, 200, False),
    "item start": ("post", "/api/v1/items/{a}/transition/", {"status": "in_progress"}, WORKERS, 200, False),
    "item archive": ("post", "/api/v1/items/{a}/archive/", {"reason": "obsolete"}, ORDERERS, 200, False),
    "item move": ("post", "/api/v1/items/{c}/move/", {"to": "top"}, ORDERERS, 200, False),
    "block move": (
        "post",
        "/api/v1/products/{key}/items/move/",
        {"items": ["{b}", "{c}"], "to": "top"},
        ORDERERS,
        200,
        False,
    ),
    "item history": ("get", "/api/v1/items/{a}/history/", None, MEMBERS, 200, True),
    "item pin": ("patch", "/api/v1/items/{a}/", {"pinned": True}, ORDERERS, 200, False),
    "scoring settings": ("get", "/api/v1/products/{key}/scoring/", None, MEMBERS, 200, True),
    "scoring change": ("patch", "/api/v1/products/{key}/scoring/", {"scoring_model": "rice"}, {"owner"}, 200, False),
    "suggested order": ("get", "/api/v1/products/{key}/suggested-order/", None, MEMBERS, 200, True),
    "bulk labels": (
        "post",
        "/api/v1/products/{key}/items/bulk/",
        {"items": [{"item": "{a_key}"}, {"item": "{b}"}], "add_labels": ["triage"]},
        WORKERS,
        200,
        False,
    ),
    "bulk start": (
        "post",
        "/api/v1/products/{key}/items/bulk/",
        {"items": [{"item": "{a}"}], "status": "in_progress"},
        WORKERS,
        200,
        False,
    ),
    "bulk value": (
        "post",
        "/api/v1/products/{key}/items/bulk/",
        {"items": [{"item": "{a}"}, {"item": "{c}"}], "set": {"business_value": 13}},
        ORDERERS,
        200,
        False,
    ),
    "bulk archive": (
        "post",
        "/api/v1/products/{key}/items/bulk/",
        {"items": [{"item": "{b}"}, {"item": "{c}"}], "status": "archived"},
        ORDERERS,
        200,
        False,
    ),
    "change feed": ("get", "/api/v1/products/{key}/changes/?after=1", None, MEMBERS, 200, True),
    "apply suggestion": ("post", "/api/v1/products/{key}/suggested-order/apply/", {}, ORDERERS, 200, False),
    "saved view list": ("get", "/api/v1/products/{key}/views/", None, MEMBERS, 200, True),
    "saved view create": (
        "post",
        "/api/v1/products/{key}/views/",
        {"name": "Defects", "filters": {"kind": "defect"}, "shared": True},
        MEMBERS,
        201,
        False,
    ),
    # The developer's shared view: every member reads it; its author and the product's owners change it.
    # (Another's private view is a 404 even for members: backlog/tests/api/test_saved_views.py.)
    "shared view detail": ("get", "/api/v1/views/{shared_view}/", None, MEMBERS, 200, True),
    "shared view rename": (
        "patch",
        "/api/v1/views/{shared_view}/",
        {"name": "Bugs"},
        {"owner", "developer"},
        200,
        False,
    ),
    "shared view delete": ("delete", "/api/v1/views/{shared_view}/", None, {"owner", "developer"}, 204, False),
    "export csv": ("get", "/api/v1/products/{key}/export/?format=csv", None, MEMBERS, 200, True),
    "export json, filtered": ("get", "/api/v1/products/{key}/export/?format=json&kind=story", None, MEMBERS, 200, True),
    "import list": ("get", "/api/v1/products/{key}/imports/", None, ORDERERS, 200, True),
    "import detail": ("get", "/api/v1/products/{key}/imports/{import}/", None, ORDERERS, 200, True),
    "import confirm": ("post", "/api/v1/products/{key}/imports/{import}/confirm/", {}, ORDERERS, 202, False),
    "item links": ("get", "/api/v1/items/{a}/links/", None, MEMBERS, 200, True),
    "item link create": (
        "post",
        "/api/v1/items/{a}/links/",
        {"type": "blocked_by", "item": "{c}"},
        WORKERS,
        201,
        False,
    ),
    "item link delete": ("delete", "/api/v1/items/{a}/links/{link}/", None, WORKERS, 204, False),
    "item theme": ("patch", "/api/v1/items/{a}/", {"theme": "<theme id>"}, ORDERERS, 200, False),
    "theme list": ("get", "/api/v1/products/{key}/themes/", None, MEMBERS, 200, True),
    "theme detail": ("get", "/api/v1/products/{key}/themes/{theme}/", None, MEMBERS, 200, True),
    "theme create": ("post", "/api/v1/products/{key}/themes/", {"title": "New"}, {"owner"}, 201, False),
    "theme edit": ("patch", "/api/v1/products/{key}/themes/{theme}/", {"title": "Renamed"}, {"owner"}, 200, False),
    "theme delete": ("delete", "/api/v1/products/{key}/themes/{theme}/", None, {"owner"}, 204, False),
}


@pytest.fixture(scope="module")
def matrix_names(product, items, owner, developer, user):
    """The shared world, with a previewed import of one row waiting for confirmation and the
    developer's shared saved view."""
    from backlog.services.imports import import_preview
    from backlog.services.saved_views import saved_view_create

    imported = import_preview(product=product, actor=owner, data=b"title,kind\nImported,story\n")
    view = saved_view_create(
        product=product, actor=developer, name="Open defects", filters={"kind": "defect"}, shared=True
    )
    return {**matrix_world(product, items, owner, developer, user), "import": imported.pk, "shared_view": view.pk}


@pytest.fixture(scope="module")
def with_links_and_themes(matrix_names, product, items):
    """A theme and a link (A relates to B) beside the shared world; refusals must leave both."""
    theme = Theme.objects.create(product=product, title="Checkout")
    link = ItemLink.objects.create(product=product, source=items[0], target=items[1], kind=ItemLink.Kind.RELATES)
    return {**matrix_names, "theme": theme.pk, "link": link.pk}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES)
def test_endpoint_by_role(case, role, as_role, with_links_and_themes):
    names = with_links_and_themes
    row = CASES[case]
    if row[2] == {"theme": "<theme id>"}:  # a JSON number: the placeholders fill in strings only
        row = (row[0], row[1], {"theme": names["theme"]}, *row[3:])
    themes, links = _state()
    check(row, role, as_role(role), names)
    want = expected(role, CASES[case][3], CASES[case][4], read=CASES[case][5])
    if want >= 400:
        assert _state() == (themes, links), "a refused request changed a theme or a link"


def _state():
    return (
        list(Theme.objects.order_by("pk").values_list("pk", "title")),
        list(ItemLink.objects.order_by("pk").values_list("pk", "source_id", "target_id", "kind")),
    )
