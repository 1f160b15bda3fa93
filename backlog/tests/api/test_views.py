from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.api.throttling import PerTokenThrottle
from backlog.models import Item, ItemEvent
from backlog.services.demo import demo_backlog_seed
from backlog.services.items import item_create, item_update
from backlog.services.suggestion import suggested_positions_refresh

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


@pytest.fixture
def api(as_role):
    return as_role("owner")


def keys(response) -> list[str]:
    return [item["key"] for item in response.json()["results"]]


def url(product, query: str = "") -> str:
    return f"/api/v1/products/{product.key}/items/{query}"


def test_the_list_is_the_backlog_in_order(api, product, owner, developer, items):
    item_create(product=product, actor=developer, kind="story", title="a proposal")
    item_create(product=product, actor=owner, kind="story", title="Z", placement=None)
    response = api.get(url(product))
    assert response.status_code == 200
    assert keys(response) == [f"{product.key}-{n}" for n in (1, 2, 3, 5)]
    assert "count" not in response.json()


def test_cursor_pagination_walks_every_item_once(api, product, owner):
    for n in range(23):
        item_create(product=product, actor=owner, kind="story", title=f"t{n}")
    seen, next_url, pages = [], url(product, "?page_size=5&count=true"), 0
    while next_url:
        body = api.get(next_url).json()
        assert body["count"] == 23
        seen += [item["key"] for item in body["results"]]
        next_url, pages = body["next"], pages + 1
    assert pages == 5
    assert seen == [f"{product.key}-{n}" for n in range(1, 24)]


@pytest.mark.parametrize(
    ("query", "titles"),
    [
        ("?kind=defect", ["bug"]),
        ("?kind=defect,tech_debt", ["bug", "debt"]),
        ("?status=proposed&ordering=number", ["idea"]),
        ("?status=open,proposed&ordering=-number", ["idea", "debt", "bug", "story"]),
        ("?label=payments", ["story", "debt"]),
        ("?label=ux,payments", ["story", "bug", "debt"]),
        ("?created_by={developer}&status=proposed", ["idea"]),
        ("?status=proposed,open", ["story", "bug", "debt", "idea"]),
        ("?ready=true", ["story"]),
        ("?ready=false", ["bug", "debt"]),
        ("?q=checkout", ["story", "bug"]),
        ("?q=CHECKOUT&kind=defect", ["bug"]),
        ("?ordering=-number", ["debt", "bug", "story"]),
    ],
)
def test_filters(api, product, owner, developer, query, titles):
    item_create(
        product=product,
        actor=owner,
        kind="story",
        title="story",
        description="The checkout page",
        labels=["payments"],
        estimate=3,
        business_value=8,
        time_criticality=3,
        risk_reduction=1,
        acceptance_criteria="- works",
    )
    item_create(product=product, actor=owner, kind="defect", title="bug in checkout", severity="major", labels=["ux"])
    item_create(product=product, actor=owner, kind="tech_debt", title="debt", interest_hours=4, labels=["payments"])
    item_create(product=product, actor=developer, kind="story", title="idea")
    response = api.get(url(product, query.format(developer=developer.username)))
    assert response.status_code == 200, response.content
    assert [item["title"].split()[0] for item in response.json()["results"]] == [t.split()[0] for t in titles]


def test_updated_since(api, product, owner, items):
    Item.objects.filter(pk=items[0].pk).update(updated_at=timezone.now() - timedelta(days=3))
    since = (timezone.now() - timedelta(days=1)).isoformat()
    response = api.get(url(product), {"updated_since": since})
    assert keys(response) == [items[1].key, items[2].key]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?kind=epic", "kind"),
        ("?kind=,,,", "kind"),
        ("?status=open,,done", "status"),
        ("?label=ux,", "label"),
        ("?status=done&ordering=rank", "ordering"),
        ("?ordering=created_at", "ordering"),
        ("?page_size=%C2%B2", "page_size"),
        ("?updated_since=0001-01-01T00:00:00%2B05:00", "updated_since"),
        ("?cursor=bm9uc2Vuc2U", "cursor"),
        ("?ordering=title", "ordering"),
        ("?ordering=-rank", "ordering"),
        ("?ready=maybe", "ready"),
        ("?updated_since=yesterday", "updated_since"),
        ("?page_size=0", "page_size"),
        ("?page_size=abc", "page_size"),
        ("?page_size=1000", "page_size"),
        ("?count=yes", "count"),
        ("?sort=rank", "sort"),
        ("?title=x", "title"),
    ],
)
def test_bad_parameters_get_a_400_naming_them(api, product, items, query, field):
    response = api.get(url(product, query))
    assert response.status_code == 400
    error = response.json()["error"]
    assert field in error["fields"]
    assert error["code"] == "invalid"


def test_query_count_is_constant_whatever_the_page_and_backlog_size(api, product, owner):
    def queries(page_size: int) -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = api.get(url(product, f"?page_size={page_size}&label=x,payments&kind=story"))
        assert response.status_code == 200
        return len(ctx.captured_queries)

    for n in range(5):
        item_create(product=product, actor=owner, kind="story", title=f"s{n}", labels=["payments", "ux"])
    api.get(url(product))  # the token's first use is recorded once; measure after it
    small = queries(2)
    for n in range(60):
        item_create(product=product, actor=owner, kind="story", title=f"t{n}", labels=["payments"])
    assert queries(2) == small
    assert queries(50) == small
    assert queries(200) == small


def test_get_by_id_and_by_key_with_etag(api, items):
    by_id = api.get(f"/api/v1/items/{items[0].pk}/")
    by_key = api.get(f"/api/v1/items/{items[0].key}/")
    assert by_id.json() == by_key.json()
    assert by_id["ETag"] == f'"{items[0].pk}-1"'
    assert by_id.json()["version"] == 1


@pytest.mark.parametrize("reference", ["999999", "XX-1", "nonsense", "P0-999"])
def test_unknown_items_are_404(api, items, reference):
    assert api.get(f"/api/v1/items/{reference}/").status_code == 404


def test_stale_if_match_is_refused_and_changes_nothing(api, items, owner):
    etag = api.get(f"/api/v1/items/{items[0].pk}/")["ETag"]
    item_update(item=items[0], actor=owner, changes={"title": "changed by someone else"})
    response = api.patch(f"/api/v1/items/{items[0].pk}/", {"title": "mine"}, format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 412
    assert response.json()["error"]["code"] == "version_conflict"
    items[0].refresh_from_db()
    assert items[0].title == "changed by someone else"
    fresh = api.get(f"/api/v1/items/{items[0].pk}/")["ETag"]
    response = api.patch(f"/api/v1/items/{items[0].pk}/", {"title": "mine"}, format="json", HTTP_IF_MATCH=fresh)
    assert response.status_code == 200
    assert response.json()["title"] == "mine"
    assert response["ETag"] == f'"{items[0].pk}-3"'


def test_stale_version_in_the_body_is_refused(api, items, owner):
    item_update(item=items[0], actor=owner, changes={"estimate": 3})
    response = api.patch(f"/api/v1/items/{items[0].pk}/", {"estimate": 5, "version": 1}, format="json")
    assert response.status_code == 412
    items[0].refresh_from_db()
    assert items[0].estimate == 3


def test_create_with_placement_and_kind_errors(api, product, items):
    response = api.post(
        url(product),
        {"kind": "story", "title": "wedge", "placement": {"to": "after", "anchor": items[0].key}},
        format="json",
    )
    assert response.status_code == 201
    assert keys(api.get(url(product))) == [items[0].key, response.json()["key"], items[1].key, items[2].key]

    response = api.post(url(product), {"kind": "spike", "title": "look into it"}, format="json")
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"timebox_days", "question"}

    response = api.post(
        url(product), {"kind": "story", "title": "x", "placement": {"to": "before", "anchor": "P9-1"}}, format="json"
    )
    assert response.status_code == 400
    assert "anchor" in response.json()["error"]["fields"]


def test_move_returns_neighbours_and_position(api, product, items):
    response = api.post(f"/api/v1/items/{items[2].key}/move/", {"to": "after", "anchor": items[0].key}, format="json")
    assert response.status_code == 200
    assert response.json() == {
        "items": [items[2].key],
        "position": 2,
        "after": {"id": items[0].pk, "key": items[0].key},
        "before": {"id": items[1].pk, "key": items[1].key},
    }
    response = api.post(f"/api/v1/items/{items[0].key}/move/", {"to": "position", "position": 3}, format="json")
    assert response.json()["position"] == 3 and response.json()["before"] is None


def test_block_move(api, product, owner, items):
    extra = item_create(product=product, actor=owner, kind="story", title="D")
    body = {"items": [extra.key, str(items[0].pk)], "to": "after", "anchor": items[1].key, "reason": "together"}
    response = api.post(url(product, "move/"), body, format="json")
    assert response.status_code == 200
    assert response.json()["items"] == [items[0].key, extra.key]
    assert response.json()["position"] == 2
    assert keys(api.get(url(product))) == [items[1].key, items[0].key, extra.key, items[2].key]
    assert ItemEvent.objects.filter(type="moved", reason="together").count() == 2


def test_block_move_is_limited_to_100(api, product, items):
    body = {"items": [str(items[0].pk)] * 101, "to": "top"}
    response = api.post(url(product, "move/"), body, format="json")
    assert response.status_code == 400
    assert "items" in response.json()["error"]["fields"]


def test_status_transitions_and_history(api, owner, product, items):
    start = api.post(f"/api/v1/items/{items[0].key}/transition/", {"status": "done"}, format="json")
    assert start.status_code == 400
    assert "status" in start.json()["error"]["fields"]
    assert (
        api.post(f"/api/v1/items/{items[0].key}/transition/", {"status": "in_progress"}, format="json").status_code
        == 200
    )
    archived = api.post(f"/api/v1/items/{items[1].key}/archive/", {"reason": "obsolete"}, format="json")
    assert archived.json()["status"] == "archived" and archived.json()["rank"] is None
    api.post(f"/api/v1/items/{items[2].key}/move/", {"to": "top", "reason": "urgent"}, format="json")
    history = api.get(f"/api/v1/items/{items[2].key}/history/").json()["results"]
    assert [(e["type"], e["actor"]) for e in history] == [("created", owner.username), ("moved", owner.username)]
    assert history[-1]["reason"] == "urgent"


def test_proposals_accepted_at_a_chosen_place(as_role, product, items):
    value_case = {"value_beneficiaries": "the team", "value_risk_removed": "an unsupported runtime"}
    proposal = as_role("developer").post(
        url(product), {"kind": "tech_debt", "title": "upgrade", "interest_hours": 3, **value_case}, format="json"
    )
    assert proposal.json()["status"] == "proposed"
    refused = as_role("owner").post(
        f"/api/v1/items/{proposal.json()['key']}/transition/", {"status": "open"}, format="json"
    )
    assert refused.status_code == 400
    assert "/accept/" in refused.json()["error"]["fields"]["status"][0]
    accepted = as_role("owner").post(
        f"/api/v1/items/{proposal.json()['key']}/accept/", {"to": "before", "anchor": items[1].key}, format="json"
    )
    assert accepted.status_code == 200
    assert keys(as_role("owner").get(url(product))) == [
        items[0].key,
        proposal.json()["key"],
        items[1].key,
        items[2].key,
    ]


def test_throttling_answers_429_with_retry_after(api, product, monkeypatch, one_throttle_window):
    monkeypatch.setattr(PerTokenThrottle, "THROTTLE_RATES", {"api": "3/min", "anon": "3/min"})
    statuses = [api.get(url(product)).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = api.get(url(product))
    assert int(response["Retry-After"]) > 0
    assert response.json()["error"]["code"] == "throttled"


def test_expired_and_unknown_tokens_are_refused(product, owner):
    from rest_framework.test import APIClient

    from accounts.services import token_create

    token, raw = token_create(user=owner, name="short", expires_at=timezone.now() + timedelta(minutes=1))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/v1/products/").status_code == 200
    type(token).objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get("/api/v1/products/").status_code == 401
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw[:-2]}xx")
    assert client.get("/api/v1/products/").status_code == 401


def test_tokens_are_stored_hashed_and_shown_once(as_role, owner):
    created = as_role("owner").post("/api/v1/tokens/", {"name": "ci", "read_only": True}, format="json").json()
    raw = created["token"]
    assert raw.startswith("obk_")
    from accounts.models import ApiToken

    stored = ApiToken.objects.get(pk=created["id"])
    assert raw not in (stored.key_hash, stored.prefix) and len(stored.key_hash) == 64
    listed = as_role("owner").get("/api/v1/tokens/").json()
    assert all("token" not in token for token in listed)


def test_schema_and_offline_docs(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn" not in html.lower()
    assert r"/api/schema/?format\u003Djson" in client.get("/api/docs/?script=").content.decode()  # JSON: quicker


def test_the_schema_validates_without_warnings():
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"estimate": "3"}, "estimate"),
        ({"business_value": "8"}, "business_value"),
        ({"business_value": 4}, "business_value"),
        ({"title": 42}, "title"),
        ({"labels": [1]}, "labels"),
        ({"version": "1"}, "version"),
        ({"kind": "epic"}, "kind"),
    ],
)
def test_inputs_must_have_the_documented_json_type(api, items, body, field):
    response = api.patch(f"/api/v1/items/{items[0].pk}/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_decimals_are_json_numbers(api, product):
    created = api.post(url(product), {"kind": "tech_debt", "title": "debt", "interest_hours": 4.5}, format="json")
    assert created.status_code == 201
    assert created.json()["interest_hours"] == 4.5


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/items/%C2%B2/",
        "/api/v1/items/P0-%C2%B2/history/",
        "/api/v1/products/A%00B/items/",
        "/api/v1/items/1/?q=a%00",
    ],
)
def test_odd_references_are_client_errors_not_crashes(api, items, path):
    assert api.get(path).status_code in (400, 404)


def test_done_items_are_listed_by_number(api, product, owner, items):
    from backlog.services.items import item_transition

    for item in items[:2]:
        item_transition(item=item_transition(item=item, actor=owner, to="in_progress"), actor=owner, to="done")
    assert keys(api.get(url(product, "?status=done"))) == [items[0].key, items[1].key]


def test_a_cursor_from_another_ordering_is_a_400(api, product, owner):
    for n in range(4):
        item_create(product=product, actor=owner, kind="story", title=f"t{n}")
    next_link = api.get(url(product, "?page_size=2")).json()["next"]
    cursor = next_link.split("cursor=")[1].split("&")[0]
    response = api.get(url(product, f"?ordering=number&cursor={cursor}"))
    assert response.status_code == 400
    assert "cursor" in response.json()["error"]["fields"]


def test_if_match_is_checked_under_the_lock(api, items, owner, monkeypatch):
    """An edit that lands between the ETag check and the write is not overwritten."""
    from backlog.api import views

    etag = api.get(f"/api/v1/items/{items[0].pk}/")["ETag"]
    real_update = views.item_update

    def racing_update(**kwargs):
        item_update(item=items[0], actor=owner, changes={"title": "someone else"})
        return real_update(**kwargs)

    monkeypatch.setattr(views, "item_update", racing_update)
    response = api.patch(f"/api/v1/items/{items[0].pk}/", {"title": "mine"}, format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 412
    items[0].refresh_from_db()
    assert items[0].title == "someone else"


def test_a_token_cannot_mint_a_longer_lived_one(product, owner):
    from rest_framework.test import APIClient

    from accounts.services import token_create

    _short, raw = token_create(user=owner, name="short", expires_at=timezone.now() + timedelta(minutes=5))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    created = client.post("/api/v1/tokens/", {"name": "forever"}, format="json")
    assert created.status_code == 201
    assert created.json()["expires_at"] is not None
    later = (timezone.now() + timedelta(days=1)).isoformat()
    assert client.post("/api/v1/tokens/", {"name": "later", "expires_at": later}, format="json").status_code == 400


def test_deleted_users_show_as_null(api, product, developer):
    proposal = item_create(product=product, actor=developer, kind="story", title="orphan")
    developer.delete()
    body = api.get(f"/api/v1/items/{proposal.pk}/").json()
    assert body["created_by"] is None
    assert api.get(f"/api/v1/items/{proposal.pk}/history/").json()["results"][0]["actor"] is None


def test_scores_breakdowns_filters_and_the_suggested_order(api, product, owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):  # the score jobs run after each commit
        for title, value in [("low", 1), ("high", 13), ("mid", 5)]:
            item_create(product=product, actor=owner, kind="story", title=title, business_value=value, estimate=1)
    body = api.get(url(product)).json()["results"]
    assert [(i["title"], i["score"]) for i in body] == [("low", 1.0), ("high", 13.0), ("mid", 5.0)]
    assert body[1]["score_breakdown"]["formula"] == "(13 + 0 + 0) / 1 = 13"
    assert [i["title"] for i in api.get(url(product, "?score_min=4&score_max=13")).json()["results"]] == ["high", "mid"]

    suggested_positions_refresh(product_id=product.pk)  # the job the score changes queued
    suggestion = api.get(f"/api/v1/products/{product.key}/suggested-order/").json()
    assert [
        (row["key"].split("-")[1], row["position"], row["suggested_position"], row["drift"]) for row in suggestion
    ] == [
        ("1", 1, 3, 2),
        ("2", 2, 1, -1),
        ("3", 3, 2, -1),
    ]
    applied = api.post(f"/api/v1/products/{product.key}/suggested-order/apply/", {}, format="json")
    assert applied.json() == {"moved": 1}
    assert [i["title"] for i in api.get(url(product)).json()["results"]] == ["high", "mid", "low"]
    suggested_positions_refresh(product_id=product.pk)  # the job the apply queued
    assert api.get(f"/api/v1/products/{product.key}/suggested-order/").json() == []


def test_scoring_settings(api, product, items):
    assert api.get(f"/api/v1/products/{product.key}/scoring/").json()["scoring_model"] == "wsjf"
    changed = api.patch(
        f"/api/v1/products/{product.key}/scoring/",
        {"score_weights": {"business_value": 2, "time_criticality": 1, "risk_reduction": 1}},
        format="json",
    )
    assert changed.status_code == 200
    assert changed.json()["score_weights"]["business_value"] == 2
    bad = api.patch(f"/api/v1/products/{product.key}/scoring/", {"score_weights": {"x": 1}}, format="json")
    assert bad.status_code == 400


def _queries(request) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = request()
    assert response.status_code == 200, response.json()
    return len(ctx.captured_queries)


def test_a_block_move_takes_the_same_queries_for_1_10_or_100_items(api, product, owner):
    demo_backlog_seed(product=product, creators=[owner], count=110, only_ordered=True)
    ordered = list(Item.objects.filter(product=product).ordered())
    api.get(url(product))  # the token's first use is recorded once; measure after it
    counts = {}
    for size in (1, 10, 100):
        # Keys and ids mixed, from the bottom of the order to the top.
        references = [item.key if n % 2 else item.pk for n, item in enumerate(ordered[-size:])]
        body = {"items": references, "to": "top", "reason": "all at once"}
        moving = [item.pk for item in ordered[-size:]]
        counts[size] = _queries(lambda body=body: api.post(url(product, "move/"), body, format="json"))
        ordered = list(Item.objects.filter(product=product).ordered())
        assert [item.pk for item in ordered[:size]] == moving
    assert counts[1] == counts[10] == counts[100], counts


def test_applying_the_suggestion_to_1_10_or_100_items_takes_the_same_queries(api, product, owner):
    demo_backlog_seed(product=product, creators=[owner], count=110, only_ordered=True)
    ordered = list(Item.objects.filter(product=product).ordered())
    for score, item in enumerate(ordered):  # the scores reverse the order: every item is out of place
        Item.objects.filter(pk=item.pk).update(score=score, pinned=False)
    api.get(url(product))
    counts = {}
    apply_url = f"/api/v1/products/{product.key}/suggested-order/apply/"
    for size in (1, 10, 100):
        references = [item.key if n % 2 else item.pk for n, item in enumerate(ordered[:size])]
        body = {"items": references}
        counts[size] = _queries(lambda body=body: api.post(apply_url, body, format="json"))
    assert counts[1] == counts[10] == counts[100], counts
