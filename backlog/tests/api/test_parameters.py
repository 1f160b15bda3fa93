"""Query parameters across the API: a list parameter may repeat (as generated clients send arrays),
any other parameter given twice is a 400 naming it, never silently the last; numbers read one way."""

import pytest
from django.core.cache import cache

from backlog.services.items import item_create

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


def keys(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["key"] for item in response.json()["results"]]


def test_repeated_list_parameters_mean_the_comma_form(as_role, product, owner, items):
    item_create(product=product, actor=owner, kind="defect", title="Bug", severity="minor", labels=["ux"])
    api = as_role("owner")
    url = f"/api/v1/products/{product.key}/items/"
    assert keys(api.get(f"{url}?kind=defect&kind=story")) == keys(api.get(f"{url}?kind=defect,story"))
    assert len(keys(api.get(f"{url}?kind=defect&kind=story"))) == 4
    assert keys(api.get(f"{url}?kind=story&kind=defect")) != keys(api.get(f"{url}?kind=defect"))
    assert keys(api.get(f"{url}?status=open&status=done")) == keys(api.get(f"{url}?status=open,done"))
    assert keys(api.get(f"{url}?label=ux&label=nothing")) == [f"{product.key}-4"]


@pytest.mark.parametrize(
    "query",
    [
        "ready=true&ready=false",
        "q=a&q=b",
        "ordering=number&ordering=-number",
        "created_by=a&created_by=b",
        "page_size=5&page_size=6",
        "count=true&count=false",
        "cursor=a&cursor=b",
    ],
)
def test_other_parameters_given_twice_are_a_400_naming_them(as_role, product, items, query):
    response = as_role("owner").get(f"/api/v1/products/{product.key}/items/?{query}")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [query.split("=")[0]]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/products/{key}/suggested-order/?limit=5&limit=6",
        "/api/v1/products/{key}/refinement-agenda/?limit=5&limit=6",
        "/api/v1/products/{key}/review-queue/?page_size=5&page_size=6",
        "/api/v1/products/{key}/stale-items/?page_size=5&page_size=6",
        "/api/v1/items/{ref}/history/?page_size=5&page_size=6",
        "/api/v1/items/{ref}/comments/?page_size=5&page_size=6",
    ],
)
def test_every_endpoint_refuses_a_parameter_given_twice(as_role, product, items, path):
    response = as_role("owner").get(path.format(key=product.key, ref=items[0].key))
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {path.rsplit("=", 1)[0].split("&")[-1]: ["Give this parameter once."]}


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/products/{key}/suggested-order/?limit=501", "limit"),
        ("/api/v1/products/{key}/suggested-order/?limit=%C2%B2", "limit"),
        ("/api/v1/products/{key}/refinement-agenda/?limit=0", "limit"),
        ("/api/v1/products/{key}/refinement-agenda/?limit=", "limit"),
        ("/api/v1/items/{ref}/history/?page_size=201", "page_size"),
    ],
)
def test_numbers_out_of_range_name_the_parameter(as_role, product, items, path, field):
    response = as_role("owner").get(path.format(key=product.key, ref=items[0].key))
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]


def test_a_nul_in_any_repeated_value_is_refused(as_role, product, items):
    response = as_role("owner").get(f"/api/v1/products/{product.key}/items/?label=a%00b&label=c")
    assert response.status_code == 400
    assert "NUL" in response.json()["error"]["message"]


def test_the_schema_documents_list_parameters_as_repeated(as_role, client):
    schema = client.get("/api/schema/?format=json").json()
    parameters = {p["name"]: p for p in schema["paths"]["/api/v1/products/{key}/items/"]["get"]["parameters"]}
    for name in ("kind", "status", "label"):
        assert parameters[name]["schema"]["type"] == "array"
        assert (parameters[name]["style"], parameters[name]["explode"]) == ("form", True)
    assert parameters["kind"]["schema"]["items"]["enum"] == ["story", "defect", "tech_debt", "spike", "operational"]
