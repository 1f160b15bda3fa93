"""The saved views API: strict input through the backlog list's filters; private views are 404 to others."""

import pytest

from backlog.models import SavedView
from backlog.services.saved_views import saved_view_create

pytestmark = pytest.mark.django_db


def test_create_list_change_delete(as_role, product, developer):
    client = as_role("developer")
    created = client.post(
        f"/api/v1/products/{product.key.lower()}/views/",
        {"name": "Not ready defects", "filters": {"kind": "defect", "ready": "false"}, "columns": ["score"]},
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["filters"] == {"kind": "defect", "ready": "false"}
    assert body["columns"] == ["score"] and body["shared"] is False and body["can_change"] is True
    assert body["created_by"] == developer.username
    hidden = "&hide=estimate&hide=ready&hide=age"
    assert body["url"] == f"/p/{product.key}/?kind=defect&ready=false&view={body['id']}{hidden}"
    listed = client.get(f"/api/v1/products/{product.key}/views/").json()
    assert [view["name"] for view in listed["results"]] == ["Not ready defects"]
    changed = client.patch(f"/api/v1/views/{body['id']}/", {"name": "Defects", "shared": True}, format="json")
    assert changed.status_code == 200 and changed.json()["shared"] is True
    assert client.delete(f"/api/v1/views/{body['id']}/").status_code == 204
    assert not SavedView.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "V", "filters": {"colour": "red"}}, "filters"),
        ({"name": "V", "filters": {"kind": "epic"}}, "filters"),
        ({"name": "V", "filters": {"kind": 3}}, "filters"),
        ({"name": "V", "columns": ["colour"]}, "columns"),
        ({"name": "V", "private": True}, "private"),
        ({"name": 5}, "name"),
        ({}, "name"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(as_role, product, body, field):
    response = as_role("developer").post(f"/api/v1/products/{product.key}/views/", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]
    assert not SavedView.objects.exists()


def test_a_private_view_is_invisible_to_everyone_else(as_role, product, developer):
    view = saved_view_create(product=product, actor=developer, name="Mine", filters={})
    assert as_role("developer").get(f"/api/v1/views/{view.pk}/").status_code == 200
    for role in ("owner", "delegate", "stakeholder", "outsider"):
        client = as_role(role)
        assert client.get(f"/api/v1/views/{view.pk}/").status_code == 404
        assert client.patch(f"/api/v1/views/{view.pk}/", {"name": "X"}, format="json").status_code == 404
        assert client.delete(f"/api/v1/views/{view.pk}/").status_code == 404
        if role != "outsider":
            assert client.get(f"/api/v1/products/{product.key}/views/").json()["results"] == []
    assert SavedView.objects.get().name == "Mine"


def test_a_shared_view_is_visible_to_members_only(as_role, product, developer):
    view = saved_view_create(product=product, actor=developer, name="Ours", filters={}, shared=True)
    stakeholder_sees = as_role("stakeholder").get(f"/api/v1/views/{view.pk}/")
    assert stakeholder_sees.status_code == 200 and stakeholder_sees.json()["can_change"] is False
    assert as_role("owner").get(f"/api/v1/views/{view.pk}/").json()["can_change"] is True
    outsider = as_role("outsider").get(f"/api/v1/views/{view.pk}/")
    assert outsider.status_code == 404 and product.key not in outsider.content.decode()
    assert as_role("outsider").get(f"/api/v1/products/{product.key}/views/").status_code == 404


def test_unknown_query_parameters_are_refused(as_role, product):
    response = as_role("owner").get(f"/api/v1/products/{product.key}/views/?shared=true")
    assert response.status_code == 400 and "shared" in response.json()["error"]["fields"]
