"""Watching and mentions in a real Chromium: a developer watches an item from the keyboard, the
owner mentions them in a comment, and they find it in their inbox and follow the mention to the
person; the preferences page fits a phone."""

import re

import pytest
from playwright.sync_api import expect

from backlog.services.items import item_create
from notifications.models import Watch

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_watch_then_a_mention_reaches_the_inbox_and_links_to_the_person(page_as, product, owner, developer):
    story = item_create(product=product, actor=owner, kind="story", title="Export to CSV")
    dev = page_as(developer, story.get_absolute_url())
    watch = dev.get_by_role("button", name=re.compile(r"^Watch"))
    watch.focus()
    dev.keyboard.press("Enter")
    expect(dev.get_by_role("button", name=re.compile(r"^Unwatch"))).to_be_visible()
    assert Watch.objects.filter(item=story, user=developer).exists()

    boss = page_as(owner, story.get_absolute_url())
    boss.fill("#comment-body", f"@{developer.username} could you check the **encoding**?")
    boss.get_by_role("button", name="Comment").click()
    expect(boss.locator(".comment .markdown a", has_text=f"@{developer.username}")).to_be_visible()

    dev.goto("/inbox/")
    expect(dev.get_by_label("1 unread")).to_be_visible()
    dev.get_by_role("button", name=re.compile(f"{owner.username} mentioned you on {story.key}")).click()
    expect(dev).to_have_url(re.compile(rf"{story.get_absolute_url()}#comment-\d+$"))
    dev.locator(".comment .markdown a", has_text=f"@{developer.username}").click()
    expect(dev).to_have_url(re.compile(rf"/p/{product.key}/people/#person-{developer.username}$"))
    expect(dev.locator(f"#person-{developer.username}")).to_contain_text(f"@{developer.username}")


def test_the_preferences_page_fits_a_phone(page_as, developer):
    page = page_as(developer, "/me/notifications/", viewport={"width": 390, "height": 800}, has_touch=True)
    page.select_option("#pref-watched", "both")
    page.select_option("#pref-digest", "daily")
    page.get_by_role("button", name="Save preferences").click()
    expect(page.get_by_text("Notification preferences saved.")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.input_value("#pref-watched") == "both"
