"""The Definition of Ready: checks per product, per item, as a filter, and the agenda."""

import pytest
from django.core.exceptions import ValidationError

from accounts.services import product_update
from backlog.models import Item
from backlog.readiness import readiness
from backlog.services.items import item_create
from refinement.selectors import refinement_agenda

pytestmark = pytest.mark.django_db

VALUES = {"business_value": 8, "time_criticality": 5, "risk_reduction": 3}


def story(product, owner, title, **fields):
    return item_create(product=product, actor=owner, kind="story", title=title, **fields)


def failing(item, product=None) -> list[str]:
    return [check["check"] for check in readiness(item, product)["checks"] if not check["passed"]]


def test_the_default_checklist(product, owner):
    ready = story(product, owner, "ready", estimate=3, acceptance_criteria="Given…", **VALUES)
    bare = story(product, owner, "bare")
    assert readiness(ready)["ready"] is True
    assert [c["check"] for c in readiness(ready)["checks"]] == ["estimate", "acceptance_criteria", "value_inputs"]
    assert failing(bare) == ["estimate", "acceptance_criteria", "value_inputs"]
    assert readiness(bare)["ready"] is False


def test_derived_value_inputs_count(product, owner):
    # A defect's business value comes from its severity and its urgency from its age: only risk
    # reduction is left to give. Debt derives its urgency from its interest.
    defect = item_create(product=product, actor=owner, kind="defect", title="d", severity="major", risk_reduction=2)
    debt = item_create(product=product, actor=owner, kind="tech_debt", title="t", interest_hours=3, business_value=5)
    assert "value_inputs" not in failing(defect)
    assert "value_inputs" in failing(debt)  # no risk reduction given


def test_a_product_chooses_its_checks(product, owner):
    product_update(
        product=product,
        actor=owner,
        changes={"definition_of_ready": {"acceptance_criteria": False, "description": True, "max_estimate": 5}},
    )
    product.refresh_from_db()
    big = story(product, owner, "big", estimate=8, description="Why", **VALUES)
    small = story(product, owner, "small", estimate=5, description="Why", **VALUES)
    undescribed = story(product, owner, "undescribed", estimate=2, **VALUES)
    assert failing(big) == ["max_estimate"]
    assert failing(small) == []
    assert failing(undescribed) == ["description"]
    assert list(Item.objects.ready(product).values_list("title", flat=True)) == ["small"]
    assert set(Item.objects.not_ready(product).values_list("title", flat=True)) == {"big", "undescribed"}
    # The other checks stay as they were when one is changed.
    product_update(product=product, actor=owner, changes={"definition_of_ready": {"max_estimate": None}})
    product.refresh_from_db()
    assert product.definition_of_ready["description"] is True
    assert failing(big, product) == []


def test_value_inputs_follow_the_scoring_model(product, owner):
    item = story(product, owner, "x", rice_reach=100, rice_impact="1", rice_confidence=50, rice_effort=0)
    product.scoring_model = "rice"
    assert "value_inputs" in failing(Item.objects.get(pk=item.pk), product)  # a zero effort does not count
    Item.objects.filter(pk=item.pk).update(rice_effort=2)
    assert "value_inputs" not in failing(Item.objects.get(pk=item.pk), product)
    assert Item.objects.filter(pk=item.pk).not_ready(product).exists()  # estimate and criteria still missing
    product.scoring_model = "moscow"
    assert "value_inputs" in failing(Item.objects.get(pk=item.pk), product)


@pytest.mark.parametrize(
    "bad",
    [{"estimate": "yes"}, {"size": True}, {"max_estimate": 0}, {"max_estimate": 2.5}, {"max_estimate": True}, []],
)
def test_a_bad_checklist_is_refused(product, owner, bad):
    with pytest.raises(ValidationError):
        product_update(product=product, actor=owner, changes={"definition_of_ready": bad})


def test_the_agenda_lists_the_first_not_ready_items_of_the_order(product, owner):
    titles = ["ready 1", "bare 2", "ready 3", "bare 4", "bare 5"]
    for title in titles:
        fields = {"estimate": 1, "acceptance_criteria": "ok", **VALUES} if title.startswith("ready") else {}
        story(product, owner, title, **fields)
    agenda = refinement_agenda(product=product, limit=2)
    assert [(item.title, item.position) for item in agenda] == [("bare 2", 2), ("bare 4", 4)]


def test_the_api_filters_and_reports_readiness(as_role, product, owner):
    story(product, owner, "ready", estimate=3, acceptance_criteria="Given…", **VALUES)
    story(product, owner, "bare")
    api = as_role("developer")
    url = f"/api/v1/products/{product.key}/items/"
    assert [i["title"] for i in api.get(url + "?ready=false").json()["results"]] == ["bare"]
    body = api.get(url + "?ready=true").json()["results"]
    assert [i["title"] for i in body] == ["ready"] and body[0]["readiness"]["ready"] is True
    agenda = api.get(f"/api/v1/products/{product.key}/refinement-agenda/?limit=5").json()
    assert [(i["title"], i["position"]) for i in agenda] == [("bare", 2)]
    assert api.get(f"/api/v1/products/{product.key}/refinement-agenda/?limit=0").status_code == 400
    refused = as_role("owner").patch(
        f"/api/v1/products/{product.key}/", {"definition_of_ready": {"estimate": "maybe"}}, format="json"
    )
    assert refused.status_code == 400 and "definition_of_ready" in refused.json()["error"]["fields"]


ALL_OFF = {
    "estimate": False,
    "acceptance_criteria": False,
    "value_inputs": False,
    "description": False,
    "max_estimate": None,
}


def test_all_checks_off_every_item_ready_and_none_not_ready(product, owner, items, as_role):
    product.definition_of_ready = ALL_OFF
    product.save()
    assert Item.objects.filter(product=product).ready(product).count() == 3
    # readiness() says every item is ready, so none should be "not ready"
    assert Item.objects.filter(product=product).not_ready(product).count() == 0
    assert refinement_agenda(product=product, limit=10) == []
    body = as_role("owner").get(f"/api/v1/products/{product.key}/items/?ready=false").json()
    assert body["results"] == []
