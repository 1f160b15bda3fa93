"""The pages: notification preferences (a form per event), Watch / Unwatch on the item page, the
people page mentions lead to."""

import pytest
from django.test import Client

from notifications.models import Preferences, Watch

pytestmark = pytest.mark.django_db


def signed_in(user, *, csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    client.force_login(user)
    return client


def test_the_preferences_page_shows_the_defaults_and_saves_a_choice(developer):
    client = signed_in(developer)
    assert 'href="/me/notifications/"' in client.get("/me/").content.decode()
    page = client.get("/me/notifications/")
    html = page.content.decode()
    assert page.status_code == 200 and 'for="pref-watched"' in html and 'name="digest"' in html
    assert {row["name"]: row["value"] for row in page.context["rows"]}["watched"] == "in_app"
    form = {row["name"]: row["value"] for row in page.context["rows"]} | {"watched": "both", "digest": "daily"}
    saved = client.post("/me/notifications/", form, follow=True)
    assert "Notification preferences saved." in saved.content.decode()
    preferences = Preferences.objects.get(user=developer)
    assert (preferences.watched, preferences.digest, preferences.mention) == ("both", "daily", "both")


def test_a_bad_choice_is_refused_with_a_message_and_nothing_saved(developer):
    client = signed_in(developer)
    form = dict.fromkeys(("question", "answer", "decision", "mention", "sla_breach"), "both")
    page = client.post("/me/notifications/", {**form, "watched": "loudly", "digest": "daily"}, follow=True)
    assert "Choose one of" in page.content.decode()
    assert not Preferences.objects.filter(user=developer).exists()


def test_the_preferences_form_needs_csrf_and_a_signed_in_user(developer):
    assert signed_in(developer, csrf=True).post("/me/notifications/", {"watched": "none"}).status_code == 403
    assert Client().get("/me/notifications/").status_code == 302


def test_watch_and_unwatch_from_the_item_page(story, developer):
    client = signed_in(developer)
    page = client.get(story.get_absolute_url()).content.decode()
    assert f'action="/p/{story.product.key}/{story.number}/watch/"' in page and ">Watch <" in page
    client.post(f"/p/{story.product.key}/{story.number}/watch/", {"watch": "on"})
    assert Watch.objects.filter(item=story, user=developer).exists()
    assert ">Unwatch <" in client.get(story.get_absolute_url()).content.decode()
    client.post(f"/p/{story.product.key}/{story.number}/watch/", {"watch": "off"})
    assert not Watch.objects.filter(item=story, user=developer).exists()


def test_the_watch_button_needs_csrf(story, developer):
    response = signed_in(developer, csrf=True).post(f"/p/{story.product.key}/{story.number}/watch/", {"watch": "on"})
    assert response.status_code == 403 and not Watch.objects.exists()


def test_every_member_sees_the_people_page(product, owner, developer, stakeholder):
    for user in (owner, developer, stakeholder):
        page = signed_in(user).get(f"/p/{product.key}/people/").content.decode()
        assert f'id="person-{developer.username}"' in page and f"@{owner.username}" in page
