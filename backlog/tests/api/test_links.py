"""The links API: list on both ends, create with strict input, cycles refused by name, delete."""

import pytest

from backlog.models import ItemEvent, ItemLink

pytestmark = pytest.mark.django_db


def test_create_list_and_delete_a_link(items, as_role):
    a, b = items[0], items[1]
    api = as_role("developer")
    created = api.post(f"/api/v1/items/{a.key}/links/", {"type": "blocked_by", "item": b.key.lower()}, format="json")
    assert created.status_code == 201, created.content
    link = ItemLink.objects.get()
    assert created.json() == [
        {
            "id": link.pk,
            "type": "blocked_by",
            "text": f"{a.key} is blocked by {b.key}",
            "item": b.key,
            "title": "B",
            "status": "open",
        }
    ]
    other_end = as_role("stakeholder").get(f"/api/v1/items/{b.pk}/links/").json()
    assert [(row["type"], row["item"]) for row in other_end] == [("blocks", a.key)]
    history = api.get(f"/api/v1/items/{b.key}/history/").json()["results"]
    assert history[-1]["type"] == "linked"
    assert history[-1]["data"] == {"link": "blocks", "other": a.pk, "link_id": link.pk}
    assert history[-1]["text"] == f"linked: blocks {a.key}"
    # Deleted from either end.
    assert api.delete(f"/api/v1/items/{b.key}/links/{link.pk}/").status_code == 204
    assert not ItemLink.objects.exists()
    assert ItemEvent.objects.filter(type="unlinked").count() == 2


def test_a_cycle_is_a_400_naming_it(items, as_role):
    a, b, c = items
    api = as_role("owner")
    for source, target in [(a, b), (b, c)]:
        assert (
            api.post(
                f"/api/v1/items/{source.key}/links/", {"type": "blocks", "item": target.key}, format="json"
            ).status_code
            == 201
        )
    refused = api.post(f"/api/v1/items/{c.key}/links/", {"type": "blocks", "item": a.key}, format="json")
    assert refused.status_code == 400
    assert refused.json()["error"]["fields"]["item"] == [
        f"{c.key} cannot block {a.key}: that would make a cycle, {c.key} → {a.key} → {b.key} → {c.key}."
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "blocks"}, "item"),
        ({"item": "X-1"}, "type"),
        ({"type": "parent", "item": 1}, "type"),
        ({"type": "blocks", "item": True}, "item"),
        ({"type": "blocks", "item": "{b}", "note": "x"}, "note"),
        ({"type": "blocks", "item": "NOPE-9"}, "item"),
        ({"type": "blocks", "item": "{a}"}, "item"),
    ],
)
def test_strict_input(items, as_role, body, field):
    names = {"a": items[0].key, "b": items[1].key}
    body = {k: v.format(**names) if isinstance(v, str) else v for k, v in body.items()}
    refused = as_role("owner").post(f"/api/v1/items/{items[0].key}/links/", body, format="json")
    assert refused.status_code == 400
    assert field in refused.json()["error"]["fields"]
    assert not ItemLink.objects.exists()


def test_a_link_of_another_item_is_404(items, as_role):
    link = ItemLink.objects.create(product=items[0].product, source=items[0], target=items[1], kind="relates")
    assert as_role("owner").delete(f"/api/v1/items/{items[2].key}/links/{link.pk}/").status_code == 404
    assert ItemLink.objects.filter(pk=link.pk).exists()
