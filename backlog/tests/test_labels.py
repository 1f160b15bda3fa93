"""Labels managed by owners: create, rename (items follow), merge, delete with a count; the filter in any case."""

import pytest
from django.test import Client

from backlog import history
from backlog.models import Item, ItemEvent, Label
from backlog.services.items import item_create

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def said(response) -> str:
    return " ".join(str(message) for message in response.context["messages"])


@pytest.fixture
def labelled(product, owner):
    """Two items labelled ux (one also payments) and one labelled payments only."""
    return [
        item_create(product=product, actor=owner, kind="story", title="a", labels=["ux"]),
        item_create(product=product, actor=owner, kind="story", title="b", labels=["ux", "payments"]),
        item_create(product=product, actor=owner, kind="story", title="c", labels=["payments"]),
    ]


def label(product, name: str) -> Label:
    return Label.objects.get(product=product, name=name)


def names_of(item: Item) -> list[str]:
    return sorted(Item.objects.get(pk=item.pk).labels.values_list("name", flat=True))


def test_the_page_lists_labels_with_how_many_items_use_them(product, owner, labelled):
    page = signed_in(owner).get(f"/p/{product.key}/labels/")
    assert [(found.name, found.item_count) for found in page.context["labels"]] == [("payments", 2), ("ux", 2)]
    assert "Delete (from 2 items)" in page.content.decode()


def test_the_page_counts_a_labels_items_up_to_a_limit(product, owner, labelled, monkeypatch):
    """Counted up to the limit and one more, whatever the backlog: past it, "more than"."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    monkeypatch.setattr("backlog.settings_views.LABEL_COUNT_LIMIT", 1)
    monkeypatch.setattr("backlog.selectors.LABEL_COUNT_LIMIT", 1)
    with CaptureQueriesContext(connection) as ctx:
        page = signed_in(owner).get(f"/p/{product.key}/labels/")
    assert [(found.name, found.item_count) for found in page.context["labels"]] == [("payments", 2), ("ux", 2)]
    assert "Delete (from more than 1 items)" in page.content.decode()
    assert "<td>more than 1</td>" in page.content.decode()
    [count] = [q["sql"] for q in ctx.captured_queries if "COUNT(*)" in q["sql"] and "backlog_label" in q["sql"]]
    assert "LIMIT 2" in count


def test_the_owner_creates_a_label_but_not_one_that_exists_in_another_case(product, owner, labelled):
    client = signed_in(owner)
    client.post(f"/p/{product.key}/labels/", {"name": " backend "})
    assert label(product, "backend")
    refused = client.post(f"/p/{product.key}/labels/", {"name": "UX"}, follow=True)
    assert "There is already a label “ux”: merge into it instead." in said(refused)
    assert Label.objects.filter(product=product).count() == 3


def test_a_rename_is_followed_by_every_item_and_changes_their_version(product, owner, labelled):
    before = Item.objects.get(pk=labelled[0].pk).version
    signed_in(owner).post(f"/p/{product.key}/labels/{label(product, 'ux').pk}/", {"action": "rename", "name": "UX"})
    assert names_of(labelled[0]) == ["UX"] and names_of(labelled[1]) == ["UX", "payments"]
    assert Item.objects.get(pk=labelled[0].pk).version == before + 1  # a stale If-Match is refused
    assert Item.objects.get(pk=labelled[2].pk).version == labelled[2].version  # untouched


def test_a_rename_is_recorded_in_the_history_of_every_item_carrying_the_label(product, owner, labelled):
    signed_in(owner).post(f"/p/{product.key}/labels/{label(product, 'ux').pk}/", {"action": "rename", "name": "UX"})
    first, second = (ItemEvent.objects.filter(item=item, type="updated").get() for item in labelled[:2])
    assert first.data == {"changes": {"labels": [["ux"], ["UX"]]}, "version": labelled[0].version + 1}
    assert second.data["changes"] == {"labels": [["payments", "ux"], ["UX", "payments"]]}
    assert first.actor == owner
    assert history.describe([second])[second.pk] == "changed labels +UX −ux"
    assert not ItemEvent.objects.filter(item=labelled[2], type="updated").exists()  # not carrying it
    page = signed_in(owner).get(f"/p/{product.key}/{labelled[0].number}/").content.decode()
    assert "+UX −ux" in page


def test_a_merge_and_a_delete_are_recorded_in_the_history_of_the_items_that_change(product, owner, labelled):
    ux, payments = label(product, "ux"), label(product, "payments")
    signed_in(owner).post(f"/p/{product.key}/labels/{ux.pk}/", {"action": "merge", "into": payments.pk})
    merged = {event.item_id: event.data["changes"] for event in ItemEvent.objects.filter(type="updated")}
    assert merged == {
        labelled[0].pk: {"labels": [["ux"], ["payments"]]},
        labelled[1].pk: {"labels": [["payments", "ux"], ["payments"]]},
    }
    signed_in(owner).post(f"/p/{product.key}/labels/{payments.pk}/", {"action": "delete"})
    deleted = ItemEvent.objects.filter(type="updated").exclude(item_id__in=merged).get()
    assert (deleted.item_id, deleted.data["changes"]) == (labelled[2].pk, {"labels": [["payments"], []]})
    assert ItemEvent.objects.filter(type="updated", item=labelled[0]).count() == 2


def test_renaming_onto_another_label_is_refused(product, owner, labelled):
    response = signed_in(owner).post(
        f"/p/{product.key}/labels/{label(product, 'ux').pk}/", {"action": "rename", "name": "Payments"}, follow=True
    )
    assert "merge into it instead" in said(response)
    assert names_of(labelled[0]) == ["ux"]


def test_a_merge_moves_every_item_once_and_removes_the_label(product, owner, labelled):
    ux, payments = label(product, "ux"), label(product, "payments")
    response = signed_in(owner).post(
        f"/p/{product.key}/labels/{ux.pk}/", {"action": "merge", "into": payments.pk}, follow=True
    )
    assert "“ux” merged into “payments” (2 items)." in said(response)
    assert [names_of(item) for item in labelled] == [["payments"], ["payments"], ["payments"]]
    assert not Label.objects.filter(pk=ux.pk).exists()


def test_a_delete_says_how_many_items_lose_the_label(product, owner, labelled):
    response = signed_in(owner).post(
        f"/p/{product.key}/labels/{label(product, 'ux').pk}/", {"action": "delete"}, follow=True
    )
    assert "Label “ux” deleted; 2 items no longer carry it." in said(response)
    assert names_of(labelled[1]) == ["payments"] and Item.objects.filter(pk=labelled[0].pk).exists()


def test_another_products_label_is_not_found(product, owner, labelled, outsider):
    foreign = Label.objects.create(product=outsider.memberships.get().product, name="theirs")
    client = signed_in(owner)
    assert client.post(f"/p/{product.key}/labels/{foreign.pk}/", {"action": "delete"}).status_code == 404
    merge = client.post(f"/p/{product.key}/labels/{label(product, 'ux').pk}/", {"action": "merge", "into": foreign.pk})
    assert merge.status_code == 404
    assert Label.objects.filter(pk=foreign.pk).exists() and names_of(labelled[0]) == ["ux"]


@pytest.mark.parametrize("role", ["developer", "delegate", "stakeholder"])
def test_only_owners_manage_labels(product, labelled, role, request):
    client = signed_in(request.getfixturevalue(role))
    ux = label(product, "ux")
    assert client.get(f"/p/{product.key}/labels/").status_code == 403
    assert client.post(f"/p/{product.key}/labels/", {"name": "new"}).status_code == 403
    for form in ({"action": "rename", "name": "x"}, {"action": "delete"}):
        assert client.post(f"/p/{product.key}/labels/{ux.pk}/", form).status_code == 403
    assert sorted(Label.objects.filter(product=product).values_list("name", flat=True)) == ["payments", "ux"]


def test_outsiders_get_404(product, labelled, outsider):
    client = signed_in(outsider)
    assert client.get(f"/p/{product.key}/labels/").status_code == 404
    assert client.post(f"/p/{product.key}/labels/{label(product, 'ux').pk}/", {"action": "delete"}).status_code == 404
    assert label(product, "ux")


def test_the_backlog_filter_offers_the_labels_and_matches_any_case(product, owner, labelled, as_role):
    page = signed_in(owner).get(f"/p/{product.key}/").content.decode()
    assert 'list="label-options"' in page and '<option value="payments">' in page and '<option value="ux">' in page
    found = signed_in(owner).get(f"/p/{product.key}/?label=UX")
    assert {row.title for row in found.context["rows"]} == {"a", "b"}
    api = as_role("owner").get(f"/api/v1/products/{product.key}/items/?label=Payments")
    assert {item["title"] for item in api.json()["results"]} == {"b", "c"}
