"""The scheduled e-mail job: each daily-digest user gets one e-mail a day, from the digest hour in
their time zone, with everything that waited, once however often it runs; immediate e-mails a
job could not send are sent later."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.conf import settings

from accounts.models import Notification
from backlog.services.items import item_update
from notifications.services import preferences_update, watch_set
from notifications.tasks import send_email_digests

pytestmark = pytest.mark.django_db


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def edit(story, owner, estimate, callbacks) -> None:
    with callbacks(execute=True):
        item_update(item=story, actor=owner, changes={"estimate": estimate})


def test_the_daily_digest_is_one_email_a_day_once(
    story, owner, developer, mailoutbox, django_capture_on_commit_callbacks
):
    developer.time_zone = "Europe/Berlin"
    developer.save()
    preferences_update(user=developer, watched="both", digest="daily")
    watch_set(item=story, user=developer, watching=True)
    with time_machine.travel(utc("2026-03-02 15:00"), tick=False):
        edit(story, owner, 3, django_capture_on_commit_callbacks)
        edit(story, owner, 5, django_capture_on_commit_callbacks)
    assert not mailoutbox  # nothing immediate: it waits for the digest
    assert Notification.objects.filter(user=developer, in_app=True).count() == 2  # the inbox is at once

    hour = settings.NOTIFICATION_DIGEST_HOUR
    with time_machine.travel(utc(f"2026-03-03 {hour - 2:02d}:00"), tick=False):  # an hour before, in Berlin
        assert send_email_digests.apply().get() == 0
    with time_machine.travel(utc(f"2026-03-03 {hour - 1:02d}:05"), tick=False):  # the digest hour, in Berlin
        assert send_email_digests.apply().get() == 1
        assert send_email_digests.apply().get() == 0  # run again: no second digest
    [digest] = mailoutbox
    assert digest.to == [developer.email] and "2 notifications" in digest.subject
    assert digest.body.count(story.get_absolute_url()) == 2
    assert not Notification.objects.filter(user=developer, emailed_at=None).exists()

    with time_machine.travel(utc("2026-03-03 15:00"), tick=False):
        edit(story, owner, 8, django_capture_on_commit_callbacks)
        assert send_email_digests.apply().get() == 0  # the same day: tomorrow's digest
    with time_machine.travel(utc(f"2026-03-04 {hour:02d}:00"), tick=False):
        assert send_email_digests.apply().get() == 1
    assert len(mailoutbox) == 2 and mailoutbox[1].subject.endswith("digest: 1 notification")


def test_an_immediate_email_that_failed_is_sent_by_the_schedule(
    story, owner, developer, mailoutbox, settings, django_capture_on_commit_callbacks, monkeypatch
):
    preferences_update(user=developer, watched="email")
    watch_set(item=story, user=developer, watching=True)
    from django.core.mail.backends.locmem import EmailBackend

    def refuse(self, messages):
        raise ConnectionRefusedError("SMTP down")

    with time_machine.travel(utc("2026-03-02 15:00"), tick=False):
        monkeypatch.setattr(EmailBackend, "send_messages", refuse)
        edit(story, owner, 3, django_capture_on_commit_callbacks)  # the job logs and carries on
        monkeypatch.undo()
        assert not mailoutbox and Notification.objects.get(user=developer).emailed_at is None
    with time_machine.travel(utc("2026-03-02 15:10"), tick=False):
        send_email_digests.apply().get()
        send_email_digests.apply().get()
    [mail] = mailoutbox
    assert mail.to == [developer.email] and story.key in mail.subject


def test_no_digest_for_someone_who_left_the_product_meanwhile(
    product, story, owner, developer, mailoutbox, django_capture_on_commit_callbacks
):
    from accounts.models import Membership

    preferences_update(user=developer, watched="both", digest="daily")
    watch_set(item=story, user=developer, watching=True)
    with time_machine.travel(utc("2026-03-02 15:00"), tick=False):
        edit(story, owner, 3, django_capture_on_commit_callbacks)
    Membership.objects.filter(product=product, user=developer).delete()
    with time_machine.travel(utc("2026-03-03 12:00"), tick=False):
        send_email_digests.apply().get()
    assert not mailoutbox
    assert not Notification.objects.filter(user=developer, email_due=True).exists()
