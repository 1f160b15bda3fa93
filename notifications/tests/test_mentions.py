"""@mentions: which words are mentions, and the rendered comment linking members to their row on
the people page, still sanitized."""

import pytest

from notifications.mentions import MAX_MENTIONS, comment_html, mentioned_usernames, mentions_linked
from refinement.services.comments import comment_create


def test_mentions_are_at_words_outside_code_emails_and_urls():
    text = (
        "Thanks @dana. Ask @Sam_2, not mail@example.com or https://x.test/@nobody\n"
        "`@inline` and\n```\n@fenced\n```\n(@olivia) @dana again"
    )
    assert mentioned_usernames(text) == ["dana", "Sam_2", "olivia"]


def test_mentions_are_capped():
    text = " ".join(f"@user{n}" for n in range(MAX_MENTIONS + 10))
    assert len(mentioned_usernames(text)) == MAX_MENTIONS


def test_only_members_are_linked_in_any_case():
    linked = mentions_linked("hi @Dana and @ghost.", product_key="OB", usernames={"dana"})
    assert linked == "hi [@dana](/p/OB/people/#person-dana) and @ghost."


def test_a_linked_comment_stays_sanitized():
    html = str(
        comment_html(
            '@dana <script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror="alert(1)">',
            product_key="OB",
            usernames={"dana"},
        )
    )
    assert '<a href="/p/OB/people/#person-dana" rel="noopener noreferrer">@dana</a>' in html
    assert "<script" not in html and "javascript:" not in html and "onerror" not in html and "<img" not in html


@pytest.mark.django_db
def test_the_item_page_and_the_api_link_a_mention_to_the_person(client, product, items, owner, developer):
    comment = comment_create(item=items[0], actor=owner, body=f"@{developer.username} can you look?")
    client.force_login(owner)
    page = client.get(items[0].get_absolute_url()).content.decode()
    href = f"/p/{product.key}/people/#person-{developer.username}"
    assert f'<a href="{href}" rel="noopener noreferrer">@{developer.username}</a>' in page
    assert f'id="comment-{comment.pk}"' in page
    people = client.get(f"/p/{product.key}/people/").content.decode()
    assert f'id="person-{developer.username}"' in people
    body = client.get(f"/api/v1/items/{items[0].pk}/comments/").json()["results"][0]["body_html"]
    assert href in body
