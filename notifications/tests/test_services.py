"""Who hears of what: watchers of edits and status changes (not moves, not their own), authors and
proposers watching their items, mentions, SLA breaches, each as the person chose; after the
commit, once, never to someone who left the product; a job's queries constant in the watchers."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Membership, Notification
from backlog.services.items import item_create, item_transition, item_update
from backlog.services.ordering import Placement, item_move
from notifications.models import Watch
from notifications.services import BATCH, comment_announce, item_events_announce, preferences_update, watch_set
from refinement.services.comments import comment_create
from refinement.services.proposals import proposal_ask

pytestmark = pytest.mark.django_db


def inbox(user) -> list[Notification]:
    return list(Notification.objects.filter(user=user, in_app=True).order_by("pk"))


def test_an_edit_reaches_the_watchers_after_the_commit_not_the_editor(
    story, owner, developer, stakeholder, django_capture_on_commit_callbacks
):
    watch_set(item=story, user=developer, watching=True)
    watch_set(item=story, user=owner, watching=True)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        item_update(item=story, actor=owner, changes={"estimate": 5})
    assert not inbox(developer)  # nothing in the request: a job after the commit
    for callback in callbacks:
        callback()
    [notice] = inbox(developer)
    assert notice.kind == Notification.Kind.WATCHED and notice.link == story.get_absolute_url()
    assert story.key in notice.text and "estimate" in notice.text and owner.username in notice.text
    assert not inbox(owner)  # their own change
    assert not inbox(stakeholder)  # not watching


def test_status_changes_reach_watchers_but_moves_do_not(
    product, owner, developer, items, django_capture_on_commit_callbacks
):
    story = items[0]
    watch_set(item=story, user=developer, watching=True)
    with django_capture_on_commit_callbacks(execute=True):
        item_move(item=story, actor=owner, to=Placement("bottom"))
    assert not inbox(developer)
    with django_capture_on_commit_callbacks(execute=True):
        item_transition(item=story, actor=owner, to="in_progress")
    [notice] = inbox(developer)
    assert "in progress" in notice.text


def test_authors_and_proposers_watch_their_items(product, owner, developer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        placed = item_create(product=product, actor=owner, kind="story", title="Placed")
        proposed = item_create(product=product, actor=developer, kind="story", title="Proposed")
    assert Watch.objects.filter(item=placed, user=owner).exists()
    assert Watch.objects.filter(item=proposed, user=developer).exists()
    with django_capture_on_commit_callbacks(execute=True):
        item_update(item=placed, actor=developer, changes={"estimate": 3})
    assert [n.kind for n in inbox(owner)] == ["watched"]


def test_a_proposer_hears_of_the_decision_once_not_as_a_watched_change(
    product, owner, developer, django_capture_on_commit_callbacks
):
    from refinement.services.proposals import proposal_accept

    with django_capture_on_commit_callbacks(execute=True):
        proposal = item_create(product=product, actor=developer, kind="story", title="Dark mode")
    with django_capture_on_commit_callbacks(execute=True):
        proposal_accept(item=proposal, actor=owner)
    assert [n.kind for n in inbox(developer)] == ["accepted"]


def test_someone_removed_from_the_product_hears_nothing_more(
    product, story, owner, developer, django_capture_on_commit_callbacks
):
    watch_set(item=story, user=developer, watching=True)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        item_update(item=story, actor=owner, changes={"estimate": 5})
    Membership.objects.filter(product=product, user=developer).delete()  # removed before the job runs
    for callback in callbacks:
        callback()
    assert not Notification.objects.filter(user=developer).exists()


def test_watching_needs_a_member(story, outsider):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        watch_set(item=story, user=outsider, watching=True)
    assert not Watch.objects.filter(user=outsider).exists()


@pytest.mark.parametrize(
    ("channel", "in_inbox", "emailed"),
    [("both", True, True), ("in_app", True, False), ("email", False, True), ("none", False, False)],
)
def test_each_person_chooses_the_inbox_email_both_or_none(
    story, owner, developer, channel, in_inbox, emailed, mailoutbox, django_capture_on_commit_callbacks
):
    preferences_update(user=developer, watched=channel)
    watch_set(item=story, user=developer, watching=True)
    with django_capture_on_commit_callbacks(execute=True):
        item_update(item=story, actor=owner, changes={"estimate": 5})
    assert bool(inbox(developer)) is in_inbox
    assert [m.to for m in mailoutbox] == ([[developer.email]] if emailed else [])
    if emailed:
        assert story.key in mailoutbox[0].subject and story.get_absolute_url() in mailoutbox[0].body
        assert Notification.objects.get(user=developer).emailed_at is not None


def test_the_inbox_and_its_count_leave_out_email_only_notices(
    client, story, owner, developer, django_capture_on_commit_callbacks
):
    preferences_update(user=developer, watched="email")
    watch_set(item=story, user=developer, watching=True)
    with django_capture_on_commit_callbacks(execute=True):
        item_update(item=story, actor=owner, changes={"estimate": 5})
    client.force_login(developer)
    page = client.get("/inbox/")
    assert page.context["unread_count"] == 0 and not list(page.context["notifications"])


def test_a_job_run_twice_notifies_and_mails_once(
    story, owner, developer, mailoutbox, django_capture_on_commit_callbacks
):
    preferences_update(user=developer, watched="both")
    watch_set(item=story, user=developer, watching=True)
    with django_capture_on_commit_callbacks(execute=True):
        item_update(item=story, actor=owner, changes={"estimate": 5})
    event_ids = list(story.events.values_list("pk", flat=True))
    item_events_announce(event_ids=event_ids)
    assert len(inbox(developer)) == 1 and len(mailoutbox) == 1


NOTIFICATION_TABLE = Notification._meta.db_table


def queries_of(call, rows: int) -> int:
    """The job's queries, its notification INSERTs counted as one: the database may split a bulk
    insert into batches by its parameter limit (SQLite: 999 parameters, so 90 rows a statement;
    PostgreSQL takes the job's 5,000 a statement), which is asserted here too."""
    with CaptureQueriesContext(connection) as captured:
        call()
    inserts = [q for q in captured if q["sql"].startswith("INSERT") and f'INTO "{NOTIFICATION_TABLE}"' in q["sql"]]
    fields = [f for f in Notification._meta.concrete_fields if not f.primary_key]
    batch = min(BATCH, connection.ops.bulk_batch_size(fields, [None] * rows) or rows)
    assert len(inserts) == -(-rows // batch)
    return len(captured) - len(inserts) + 1


def test_the_edit_job_runs_the_same_queries_for_10_and_100_watchers(
    product, owner, add_watchers, django_capture_on_commit_callbacks
):
    counts = []
    for n in (10, 100):
        item = item_create(product=product, actor=owner, kind="story", title=f"Watched by {n}")
        watchers = add_watchers(item, n)
        for watcher in watchers[: n // 2]:
            preferences_update(user=watcher, watched="both")  # half of them by e-mail too
        item_update(item=item, actor=owner, changes={"estimate": 5})
        event_ids = list(item.events.filter(type="updated").values_list("pk", flat=True))
        counts.append(queries_of(lambda ids=event_ids: item_events_announce(event_ids=ids), n))
        assert Notification.objects.filter(key=f"event:{event_ids[0]}").count() == n
    assert counts[0] == counts[1], counts


def test_the_comment_job_runs_the_same_queries_for_10_and_100_watchers(product, owner, add_watchers):
    counts = []
    for n in (10, 100):
        item = item_create(product=product, actor=owner, kind="story", title=f"Watched by {n}")
        watchers = add_watchers(item, n)
        mentioned = " ".join(f"@{w.username}" for w in watchers[:5])
        comment = comment_create(item=item, actor=owner, body=f"Please look, {mentioned}")
        counts.append(
            queries_of(
                lambda c=comment, i=item: comment_announce(item=i, comment_id=c.pk, author_id=owner.pk, body=c.body),
                n,
            )
        )
        assert Notification.objects.filter(key=f"mention:{comment.pk}").count() == 5
        assert Notification.objects.filter(key=f"comment:{comment.pk}").count() == n - 5
    assert counts[0] == counts[1], counts


def test_a_mention_reaches_the_member_named_not_outsiders_nor_the_author(
    story, owner, developer, stakeholder, outsider, mailoutbox, django_capture_on_commit_callbacks
):
    watch_set(item=story, user=stakeholder, watching=True)
    body = f"@{developer.username} and @{outsider.username}, see `@{stakeholder.username}`; me: @{owner.username}"
    with django_capture_on_commit_callbacks(execute=True):
        comment = comment_create(item=story, actor=owner, body=body)
    [mention] = inbox(developer)
    assert (
        mention.kind == Notification.Kind.MENTION and mention.link == f"{story.get_absolute_url()}#comment-{comment.pk}"
    )
    assert owner.username in mention.text
    assert not Notification.objects.filter(user=outsider).exists()  # not a member: never told
    assert not Notification.objects.filter(user=owner).exists()  # the author (who watches it)
    [watched] = inbox(stakeholder)  # a watcher hears of the comment; code is not a mention
    assert watched.kind == Notification.Kind.WATCHED and watched.key == f"comment:{comment.pk}"
    assert [m.to for m in mailoutbox] == [[developer.email]]  # mentions: both by default; watched: inbox


def test_a_mentioned_watcher_hears_once(story, owner, developer, django_capture_on_commit_callbacks):
    watch_set(item=story, user=developer, watching=True)
    with django_capture_on_commit_callbacks(execute=True):
        comment_create(item=story, actor=owner, body=f"@{developer.username} thoughts?")
    assert [n.kind for n in inbox(developer)] == ["mention"]


def test_proposal_notices_follow_preferences(product, owner, developer, mailoutbox, django_capture_on_commit_callbacks):
    proposal = item_create(product=product, actor=developer, kind="story", title="Dark mode")
    other = item_create(product=product, actor=developer, kind="story", title="Light mode")
    preferences_update(user=developer, question="none")
    with django_capture_on_commit_callbacks(execute=True):
        proposal_ask(item=proposal, actor=owner, question="Which screens?")
    assert not Notification.objects.filter(user=developer).exists() and not mailoutbox
    preferences_update(user=developer, question="email")
    with django_capture_on_commit_callbacks(execute=True):
        proposal_ask(item=other, actor=owner, question="And which themes?")
    assert not inbox(developer)
    [mail] = mailoutbox
    assert "And which themes?" in mail.subject and mail.to == [developer.email]


def test_preferences_refuse_unknown_events_and_channels(developer):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        preferences_update(user=developer, watched="loudly")
    with pytest.raises(ValidationError):
        preferences_update(user=developer, webhooks="both")
    with pytest.raises(ValidationError):
        preferences_update(user=developer, digest="weekly")
