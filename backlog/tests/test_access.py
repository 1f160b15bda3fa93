"""backlog.access: items fetched and checked in one call (404 for outsiders as for missing items),
the items a request names inside a product, and placements, for the pages and the API alike."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.permissions import Action
from accounts.tests.factories import ProductFactory
from accounts.tests.routes import assert_any_case, assert_hidden, routes_of
from backlog.access import (
    access_item,
    access_item_by_number,
    item_ids_in,
    item_in,
    placement_in,
    transitions_for,
)
from backlog.models import Import, Item, ItemLink, Label, SavedView, Theme
from backlog.services.imports import import_preview
from backlog.services.items import item_create
from backlog.services.ordering import MAX_POSITION, Placement
from backlog.services.saved_views import saved_view_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def foreign(outsider):
    """An item of the outsider's own product."""
    product = outsider.memberships.get().product
    return item_create(product=product, actor=outsider, kind="story", title="Theirs")


@pytest.mark.parametrize("role", ["owner", "developer", "delegate", "stakeholder"])
def test_members_reach_an_item_by_id_key_and_number_in_any_case(product, items, role, request):
    user = request.getfixturevalue(role)
    item = items[1]
    for reference in (str(item.pk), item.key, item.key.lower(), f"{product.key.lower()}-{item.number}"):
        found, actions = access_item(user, reference)
        assert found == item and Action.VIEW in actions
    found, _ = access_item_by_number(user, product.key.lower(), item.number)
    assert found == item and found.product == product


@pytest.mark.parametrize("role", ["outsider", "anonymous"])
def test_outsiders_get_the_404_of_a_missing_item_through_every_helper(product, items, role, request):
    user = request.getfixturevalue(role)
    item = items[0]
    for action in Action:
        with pytest.raises(Http404) as foreign:
            access_item(user, item.key, action)
        with pytest.raises(Http404) as missing:
            access_item(user, f"{product.key}-999", action)
        assert str(foreign.value) == str(missing.value)
        with pytest.raises(Http404) as foreign:
            access_item_by_number(user, product.key, item.number, action)
        with pytest.raises(Http404) as missing:
            access_item_by_number(user, product.key, 999, action)
        assert str(foreign.value) == str(missing.value)


def test_a_missing_item_of_ones_own_product_is_a_404(product, owner):
    with pytest.raises(Http404):
        access_item_by_number(owner, product.key, 1)
    with pytest.raises(Http404):
        access_item(owner, "not a reference")


def test_members_lacking_the_action_get_403(items, stakeholder):
    with pytest.raises(PermissionDenied):
        access_item(stakeholder, items[0].key, Action.REORDER)
    with pytest.raises(PermissionDenied):
        access_item_by_number(stakeholder, items[0].product.key, items[0].number, Action.EDIT_WORK)


def test_a_reference_resolves_only_inside_the_product(product, items, foreign):
    assert item_in(product, items[0].key.lower(), "anchor") == items[0]
    assert item_in(product, str(items[0].pk), "anchor") == items[0]
    for reference in (foreign.key, str(foreign.pk), "XX-1", "nonsense"):
        with pytest.raises(ValidationError) as refused:
            item_in(product, reference, "anchor")
        assert refused.value.message_dict == {"anchor": [f"No item {reference} in {product.key}."]}


def test_many_references_resolve_in_order_in_constant_queries(product, owner, foreign):
    made = [item_create(product=product, actor=owner, kind="story", title=f"s{n}") for n in range(30)]
    spellings = [lambda item: item.key.lower(), lambda item: item.key, lambda item: str(item.pk)]
    references = [spellings[n % 3](item) for n, item in enumerate(made)]
    with CaptureQueriesContext(connection) as three:
        assert item_ids_in(product, references[:3], "items") == [item.pk for item in made[:3]]
    with CaptureQueriesContext(connection) as thirty:
        assert item_ids_in(product, references[::-1], "items") == [item.pk for item in made[::-1]]
    assert len(thirty.captured_queries) == len(three.captured_queries) <= 2
    with pytest.raises(ValidationError) as refused:
        item_ids_in(product, [made[0].key, foreign.key, str(foreign.pk), f"{product.key}-999"], "items")
    assert refused.value.message_dict["items"] == [
        f"No item {reference} in {product.key}." for reference in (foreign.key, str(foreign.pk), f"{product.key}-999")
    ]


def test_placements_from_a_form_or_a_body_mean_the_same(product, items, foreign):
    assert placement_in(product, to="top") == Placement.top()
    assert placement_in(product, to="bottom") == Placement.bottom()
    assert placement_in(product, to="before", anchor=items[1].key.lower()) == Placement.before(items[1])
    assert placement_in(product, to="after", anchor=str(items[1].pk)) == Placement.after(items[1])
    assert placement_in(product, to="position", position=3) == placement_in(product, to="position", position=" 3 ")
    bad = [
        ({"to": "sideways"}, "to"),
        ({"to": "before"}, "anchor"),
        ({"to": "after", "anchor": " "}, "anchor"),
        ({"to": "before", "anchor": foreign.key}, "anchor"),
        ({"to": "position"}, "position"),
        ({"to": "position", "position": "²"}, "position"),
        ({"to": "position", "position": "0"}, "position"),
        ({"to": "position", "position": MAX_POSITION + 1}, "position"),
        ({"to": "position", "position": True}, "position"),
    ]
    for given, field in bad:
        with pytest.raises(ValidationError) as refused:
            placement_in(product, **given)
        assert set(refused.value.message_dict) == {field}, given


def test_transitions_follow_the_actions(product, items, owner, developer, stakeholder):
    item = items[0]
    assert [status for status, _ in transitions_for(item, frozenset(Action))] == ["in_progress", "archived"]
    assert [status for status, _ in transitions_for(item, frozenset({Action.EDIT_WORK}))] == ["in_progress"]
    assert transitions_for(item, frozenset({Action.VIEW})) == []


def test_other_products_with_the_same_numbers_stay_apart(product, owner, items):
    other = ProductFactory()
    assert item_in(product, f"{product.key}-1", "items").product == product
    with pytest.raises(ValidationError):
        item_in(product, f"{other.key}-1", "items")


def _an_import(product, owner) -> int:
    return import_preview(product=product, actor=owner, data=b"title,kind\nImported,story\n").pk


def _theme_and_link(product, items) -> dict[str, int]:
    theme = Theme.objects.create(product=product, title="Theirs")
    link = ItemLink.objects.create(product=product, source=items[0], target=items[1], kind=ItemLink.Kind.BLOCKS)
    return {"theme_id": theme.pk, "link_id": link.pk}


def test_outsiders_get_404_on_every_backlog_page_and_api_url(product, items, owner, outsider, as_role):
    label = Label.objects.create(product=product, name="theirs")
    owner = product.memberships.get(role="owner").user
    view = saved_view_create(product=product, actor=owner, name="Theirs", filters={}, shared=True)
    import_id = _an_import(product, owner)
    named = _theme_and_link(product, items)
    before = list(Item.objects.order_by("pk").values_list("pk", "version", "rank", "status"))
    urls = routes_of(
        "backlog",
        key=product.key,
        number=items[0].number,
        ref=items[0].key,
        label_id=label.pk,
        import_id=import_id,
        view_id=view.pk,
        **named,
    )
    page = Client()
    page.force_login(outsider)
    assert_hidden(page, as_role("outsider"), urls)
    assert list(Item.objects.order_by("pk").values_list("pk", "version", "rank", "status")) == before
    assert Label.objects.filter(pk=label.pk, name="theirs").exists()
    assert SavedView.objects.filter(pk=view.pk, name="Theirs").exists()
    assert Import.objects.get(pk=import_id).state == Import.State.PREVIEWED
    assert Theme.objects.filter(pk=named["theme_id"], title="Theirs").exists()
    assert ItemLink.objects.filter(pk=named["link_id"]).exists()


def test_every_backlog_url_takes_keys_in_any_case(product, items, owner, as_role):
    item = items[1]
    page = Client()
    page.force_login(owner)
    label = Label.objects.create(product=product, name="ours")
    view = saved_view_create(product=product, actor=owner, name="Ours", filters={"kind": "story"})
    import_id = _an_import(product, owner)
    named = _theme_and_link(product, items)
    urls = routes_of(
        "backlog",
        key=product.key,
        number=item.number,
        ref=item.key,
        label_id=label.pk,
        import_id=import_id,
        view_id=view.pk,
        **named,
    )
    assert_any_case(page, as_role("owner"), urls, product.key)


def test_request_bodies_name_items_in_any_case(product, owner, developer, items, as_role):
    api = as_role("owner")
    lower = [item.key.lower() for item in items]
    moved = api.post(
        f"/api/v1/products/{product.key}/items/move/",
        {"items": [lower[0]], "to": "after", "anchor": lower[2]},
        format="json",
    )
    assert moved.status_code == 200, moved.content
    assert list(Item.objects.filter(product=product).ordered().values_list("title", flat=True)) == ["B", "C", "A"]
    assert (
        api.post(f"/api/v1/items/{lower[2]}/move/", {"to": "before", "anchor": lower[1]}, format="json").status_code
        == 200
    )
    assert list(Item.objects.filter(product=product).ordered().values_list("title", flat=True)) == ["C", "B", "A"]
    proposal = item_create(product=product, actor=developer, kind="story", title="Again")
    rejected = api.post(
        f"/api/v1/items/{proposal.key.lower()}/reject/", {"reason": "Have it", "duplicate_of": lower[0]}, format="json"
    )
    assert rejected.status_code == 200, rejected.content
    assert Item.objects.get(pk=proposal.pk).duplicate_of_id == items[0].pk
    applied = api.post(
        f"/api/v1/products/{product.key.lower()}/suggested-order/apply/", {"items": lower}, format="json"
    )
    assert applied.status_code == 200, applied.content
