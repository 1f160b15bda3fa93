"""A team starts on its own, in a real Chromium: a new user signs up, starts a product and invites
a colleague by e-mail; the colleague follows the link from the e-mail, signs up, joins as developer
and proposes debt; the owner asks a question, the colleague sees the unread notification and answers,
and the owner is told of the answer."""

import re

import pytest
from django.core import mail

from accounts.models import AuditEvent, Membership, Notification, Product
from backlog.models import Item

# On PostgreSQL, as the other multi-page flows: the live server's threads share SQLite's in-memory
# connection badly across many requests.
pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"


def sign_up(page, username: str, email: str) -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()


def test_a_new_user_starts_a_product_and_a_colleague_joins_from_the_e_mail(chromium, live_server):
    founder = chromium.new_context(base_url=live_server.url).new_page()
    founder.set_default_timeout(10_000)
    founder.goto("/accounts/login/")
    founder.get_by_role("link", name="Sign up").click()
    sign_up(founder, "founder", "founder@example.com")

    founder.get_by_role("link", name="Start a product").click()
    founder.get_by_label("Name").fill("Garden planner")
    founder.get_by_label("Key", exact=True).fill("GARDEN")
    founder.get_by_role("button", name="Create product").click()
    founder.wait_for_url("**/p/GARDEN/")
    founder.get_by_role("link", name="Team & settings").click()
    founder.get_by_label("E-mail or username").fill("colleague@example.com")
    founder.get_by_label("Role", exact=True).select_option("developer")
    founder.get_by_role("button", name="Send invitation").click()
    assert founder.get_by_text("Invitation sent to colleague@example.com.").is_visible()

    [confirmation, message] = mail.outbox  # the founder's confirmation link, then the invitation
    assert confirmation.to == ["founder@example.com"] and "Confirm" in confirmation.subject
    assert message.to == ["colleague@example.com"]
    link = re.search(r"https?://\S+/invitations/\S+/", message.body).group(0)
    colleague = chromium.new_context(base_url=live_server.url).new_page()
    colleague.set_default_timeout(10_000)
    colleague.goto(link)
    colleague.get_by_role("link", name="sign up").click()
    assert colleague.get_by_label("Email").input_value() == "colleague@example.com"
    sign_up(colleague, "colleague", "colleague@example.com")
    colleague.get_by_role("button", name="Join Garden planner").click()
    assert len(mail.outbox) == 2  # following the invitation proved the colleague's address: no link to confirm
    colleague.wait_for_url("**/p/GARDEN/")
    assert colleague.get_by_text("Welcome to Garden planner.").is_visible()

    product = Product.objects.get(key="GARDEN")
    assert product.memberships.get(user__username="founder").role == Membership.Role.OWNER
    assert product.memberships.get(user__username="colleague").role == Membership.Role.DEVELOPER
    founder.goto("/p/GARDEN/audit/")
    assert founder.get_by_role("cell", name="Invitation accepted").is_visible()
    assert AuditEvent.objects.filter(product=product, action=AuditEvent.Action.INVITATION_ACCEPTED).exists()

    # The colleague proposes debt; the owner asks about it.
    colleague.goto("/p/GARDEN/new/")
    colleague.select_option("select[name=kind]", "tech_debt")
    colleague.fill("input[name=title]", "Replace the date library")
    colleague.fill("input[name=interest_hours]", "5")
    colleague.fill("textarea[name=value_beneficiaries]", "Everyone touching dates")
    colleague.fill("textarea[name=value_risk_removed]", "Time-zone bugs in billing")
    colleague.get_by_role("button", name="Propose").click()
    colleague.wait_for_url(re.compile(r"/p/GARDEN/\d+/$"))
    proposal = Item.objects.get(title="Replace the date library")
    founder.goto("/p/GARDEN/review/")
    card = founder.locator(f"#proposal-{proposal.number}")
    card.get_by_text("Reject or ask").click()
    card.get_by_label("Question for the proposer").fill("Which screens use it?")
    card.get_by_role("button", name="Ask").click()
    founder.wait_for_url(re.compile(r"/review/$"))

    # The colleague sees one unread notification, opens it and answers.
    colleague.goto("/")
    assert colleague.get_by_label("1 unread").is_visible()
    colleague.get_by_role("link", name=re.compile("^Inbox")).click()
    colleague.get_by_role("button", name=re.compile("Which screens use it")).click()
    colleague.wait_for_url(f"**/p/GARDEN/{proposal.number}/")
    assert colleague.get_by_label("1 unread").count() == 0  # opened: read
    colleague.get_by_label("Your answer").fill("Billing and the calendar.")
    colleague.get_by_role("button", name="Send the answer").click()
    colleague.wait_for_url("**/p/GARDEN/proposals/")

    founder.goto("/inbox/")
    assert founder.get_by_role("button", name=re.compile("Billing and the calendar")).is_visible()
    assert Notification.objects.filter(user__username="founder", kind=Notification.Kind.ANSWER).count() == 1
