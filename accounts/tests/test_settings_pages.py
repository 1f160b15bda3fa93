"""The owner's settings pages: policies (accounts) and scoring (backlog), in forms, validated and audited."""

import pytest
from django.test import Client

from accounts.models import DEFAULT_SLA_HOURS, AuditEvent
from backlog.services.items import item_create
from backlog.tasks import recompute_behind_scores

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def policies(**changes) -> dict:
    form = {
        "action": "policies",
        "stale_after_days": "30",
        "debt_target_percent": "20",
        "sprint_capacity": "40",
        "ready_estimate": "on",
        "ready_acceptance_criteria": "on",
        "ready_value_inputs": "on",
        "ready_max_estimate": "",
        **{f"sla_{priority}": str(hours) for priority, hours in DEFAULT_SLA_HOURS.items()},
    }
    form.update(changes)
    return {name: value for name, value in form.items() if value is not None}


def test_the_settings_page_shows_the_current_policies(product, owner):
    product.sprint_capacity = 33
    product.save()
    page = signed_in(owner).get(f"/p/{product.key}/settings/").content.decode()
    assert 'name="sprint_capacity" min="1" max="10000" required value="33"' in page
    assert 'name="ready_estimate" checked' in page and 'name="ready_description">' in page


def test_the_owner_saves_policies_and_the_trail_holds_only_what_changed(product, owner):
    response = signed_in(owner).post(
        f"/p/{product.key}/settings/",
        policies(sprint_capacity="55", sla_P1="2", ready_estimate=None, ready_description="on", ready_max_estimate="8"),
    )
    assert response.status_code == 302
    product.refresh_from_db()
    assert product.sprint_capacity == 55 and product.sla_hours["P1"] == 2
    assert product.definition_of_ready == {
        "estimate": False,
        "acceptance_criteria": True,
        "value_inputs": True,
        "description": True,
        "max_estimate": 8,
    }
    [event] = AuditEvent.objects.filter(product=product, action=AuditEvent.Action.SETTINGS_CHANGED)
    assert event.actor == owner
    assert set(event.data["old"]) == set(event.data["new"]) == {"sprint_capacity", "sla_hours", "definition_of_ready"}
    assert (event.data["old"]["sprint_capacity"], event.data["new"]["sprint_capacity"]) == (40, 55)
    assert (event.data["old"]["sla_hours"]["P1"], event.data["new"]["sla_hours"]["P1"]) == (4, 2)


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("stale_after_days", "0", "Stale after (days): give a whole number from 1 to 3,650."),
        ("debt_target_percent", "101", "Debt target (%): give a whole number from 0 to 100."),
        ("sprint_capacity", "forty", "Sprint capacity (points): give a whole number from 1 to 10,000."),
        ("sla_P3", "-1", "SLA for P3: give whole hours from 1 to 87,600."),
        ("ready_max_estimate", "5000", "Largest ready estimate: whole points from 1 to 1000, or empty for any."),
    ],
)
def test_a_bad_policy_is_refused_with_a_message_saying_what_to_give(product, owner, field, value, says):
    response = signed_in(owner).post(f"/p/{product.key}/settings/", policies(**{"sprint_capacity": "9", field: value}))
    assert response.status_code == 400
    assert says in response.context["errors"] and says in response.content.decode()
    assert f'value="{value}"' in response.content.decode()  # the form keeps what was typed
    product.refresh_from_db()
    assert product.sprint_capacity == 40  # nothing saved, not even the valid fields
    assert not AuditEvent.objects.filter(product=product).exists()


@pytest.mark.parametrize("role", ["developer", "delegate", "stakeholder"])
def test_only_owners_change_policies_or_scoring(product, owner, role, request):
    client = signed_in(request.getfixturevalue(role))
    assert client.post(f"/p/{product.key}/settings/", policies(sprint_capacity="1")).status_code == 403
    assert client.get(f"/p/{product.key}/scoring/").status_code == 403
    assert client.post(f"/p/{product.key}/scoring/", {"scoring_model": "rice"}).status_code == 403
    product.refresh_from_db()
    assert (product.sprint_capacity, product.scoring_model) == (40, "wsjf")
    assert signed_in(owner).get(f"/p/{product.key}/scoring/").status_code == 200


def test_outsiders_get_404_on_the_scoring_page(product, outsider):
    client = signed_in(outsider)
    assert client.get(f"/p/{product.key}/scoring/").status_code == 404
    assert client.post(f"/p/{product.key}/scoring/", {"scoring_model": "rice"}).status_code == 404


WEIGHTS = {"business_value": "2", "time_criticality": "1", "risk_reduction": "0.5"}


def test_new_weights_recompute_every_score_and_the_page_says_so(product, owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        story = item_create(product=product, actor=owner, kind="story", title="s", business_value=8, estimate=2)
    assert story.__class__.objects.get(pk=story.pk).score == 4.0
    client = signed_in(owner)
    with django_capture_on_commit_callbacks(execute=False) as recompute:
        response = client.post(f"/p/{product.key}/scoring/", {"scoring_model": "wsjf", **WEIGHTS}, follow=True)
    assert "Every score is being recomputed now" in response.content.decode()
    assert "Scores are being recomputed" in client.get(f"/p/{product.key}/scoring/").content.decode()
    for callback in recompute:
        callback()
    # In process the request recomputes nothing: the embedded schedule does, within seconds.
    assert story.__class__.objects.get(pk=story.pk).score == 4.0
    assert "Scores are being recomputed" in client.get(f"/p/{product.key}/scoring/").content.decode()
    recompute_behind_scores()
    assert story.__class__.objects.get(pk=story.pk).score == 8.0  # business value now counts twice
    assert "Every score is up to date" in client.get(f"/p/{product.key}/scoring/").content.decode()
    [event] = AuditEvent.objects.filter(product=product, action=AuditEvent.Action.SETTINGS_CHANGED)
    assert event.data["old"] == {
        "score_weights": {"business_value": 1.0, "time_criticality": 1.0, "risk_reduction": 1.0}
    }
    assert event.data["new"] == {
        "score_weights": {"business_value": 2.0, "time_criticality": 1.0, "risk_reduction": 0.5}
    }


@pytest.mark.parametrize(
    ("form", "says"),
    [
        ({"scoring_model": "wsjf", **WEIGHTS, "risk_reduction": "11"}, "Risk reduction / opportunity enablement: give"),
        ({"scoring_model": "wsjf", **WEIGHTS, "business_value": "nan"}, "Business value: give a number from 0 to 10"),
        ({"scoring_model": "magic", **WEIGHTS}, "Choose one of: wsjf, rice, moscow."),
    ],
)
def test_bad_scoring_is_refused_with_a_reason(product, owner, form, says):
    response = signed_in(owner).post(f"/p/{product.key}/scoring/", form)
    assert response.status_code == 400 and any(says in error for error in response.context["errors"])
    product.refresh_from_db()
    assert (product.scoring_model, product.scoring_version) == ("wsjf", 0)
    assert not AuditEvent.objects.filter(product=product).exists()


def test_a_model_change_is_in_the_trail(product, owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        signed_in(owner).post(
            f"/p/{product.key}/scoring/",
            {"scoring_model": "rice", "business_value": "1", "time_criticality": "1", "risk_reduction": "1"},
        )
    [event] = AuditEvent.objects.filter(product=product)
    assert (event.data["old"], event.data["new"]) == ({"scoring_model": "wsjf"}, {"scoring_model": "rice"})


def test_the_owner_sets_the_search_language(product, owner, developer):
    page = signed_in(owner).get(f"/p/{product.key}/settings/").content.decode()
    assert '<option value="english" selected>English</option>' in page
    response = signed_in(owner).post(f"/p/{product.key}/settings/", {"action": "search", "search_language": "simple"})
    assert response.status_code == 302
    product.refresh_from_db()
    assert product.search_language == "simple"
    [event] = AuditEvent.objects.filter(product=product, action=AuditEvent.Action.SETTINGS_CHANGED)
    assert event.data == {"old": {"search_language": "english"}, "new": {"search_language": "simple"}}
    refused = signed_in(owner).post(f"/p/{product.key}/settings/", {"action": "search", "search_language": "klingon"})
    assert refused.status_code == 400 and "klingon" in refused.content.decode()
    product.refresh_from_db()
    assert product.search_language == "simple"
    assert (
        signed_in(developer)
        .post(f"/p/{product.key}/settings/", {"action": "search", "search_language": "german"})
        .status_code
        == 403
    )
