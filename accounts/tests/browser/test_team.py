"""A team starts on its own, in a real Chromium: a new user signs up, starts a product and invites
a colleague by e-mail; the colleague follows the link from the e-mail, signs up and joins."""

import re

import pytest
from django.core import mail

from accounts.models import AuditEvent, Membership, Product

# On PostgreSQL, as the other multi-page flows: the live server's threads share SQLite's in-memory
# connection badly across many requests.
pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"


def sign_up(page, username: str, email: str) -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password confirmation").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()


def test_a_new_user_starts_a_product_and_a_colleague_joins_from_the_e_mail(chromium, live_server):
    founder = chromium.new_context(base_url=live_server.url).new_page()
    founder.set_default_timeout(10_000)
    founder.goto("/accounts/login/")
    founder.get_by_role("link", name="Sign up").click()
    sign_up(founder, "founder", "founder@example.com")

    founder.get_by_role("link", name="Start a product").click()
    founder.get_by_label("Name").fill("Garden planner")
    founder.get_by_label("Key").fill("GARDEN")
    founder.get_by_role("button", name="Create product").click()
    founder.wait_for_url("**/p/GARDEN/")
    founder.get_by_role("link", name="Team & settings").click()
    founder.get_by_label("E-mail or username").fill("colleague@example.com")
    founder.get_by_label("Role", exact=True).select_option("developer")
    founder.get_by_role("button", name="Send invitation").click()
    assert founder.get_by_text("Invitation sent to colleague@example.com.").is_visible()

    [message] = mail.outbox
    link = re.search(r"https?://\S+/invitations/\S+/", message.body).group(0)
    colleague = chromium.new_context().new_page()
    colleague.set_default_timeout(10_000)
    colleague.goto(link)
    colleague.get_by_role("link", name="sign up").click()
    assert colleague.get_by_label("Email").input_value() == "colleague@example.com"
    sign_up(colleague, "colleague", "colleague@example.com")
    colleague.get_by_role("button", name="Join Garden planner").click()
    colleague.wait_for_url("**/p/GARDEN/")
    assert colleague.get_by_text("Welcome to Garden planner.").is_visible()

    product = Product.objects.get(key="GARDEN")
    assert product.memberships.get(user__username="founder").role == Membership.Role.OWNER
    assert product.memberships.get(user__username="colleague").role == Membership.Role.DEVELOPER
    founder.goto("/p/GARDEN/audit/")
    assert founder.get_by_role("cell", name="Invitation accepted").is_visible()
    assert AuditEvent.objects.filter(product=product, action=AuditEvent.Action.INVITATION_ACCEPTED).exists()
