"""@mentions in comments: finding the usernames a comment names, and linking them to the person.

A mention is ``@`` and a username, not preceded by a letter, digit, ``/`` or ``.`` (so e-mail
addresses and URLs are not mentions), outside code (fenced blocks and inline code). Linking
rewrites the Markdown before it is rendered; the result is sanitized like any comment.
"""

import re

from django.urls import reverse

MENTION = re.compile(r"(?<![\w@/.\[`])@([A-Za-z0-9_][A-Za-z0-9_.+-]*)")
# Fenced code blocks, then inline code spans: left as they are.
CODE = re.compile(r"(^ {0,3}(```|~~~)[^\n]*\n.*?(^ {0,3}\2[^\n]*$|\Z)|`+[^`\n]*`+)", re.DOTALL | re.MULTILINE)
MAX_MENTIONS = 50  # one comment notifies at most this many people


def _outside_code(text: str) -> list[tuple[bool, str]]:
    """``text`` in pieces, each with whether it is prose (True) or code (False)."""
    pieces, at = [], 0
    for code in CODE.finditer(text):
        pieces.append((True, text[at : code.start()]))
        pieces.append((False, code.group(0)))
        at = code.end()
    pieces.append((True, text[at:]))
    return pieces


def _name(match: re.Match) -> str:
    return match.group(1).rstrip(".+-")  # "thanks @dana." names dana


def mentioned_usernames(text: str) -> list[str]:
    """The usernames ``text`` mentions, in order, each once (case as written), at most
    ``MAX_MENTIONS``."""
    names: dict[str, str] = {}
    for prose, piece in _outside_code(text or ""):
        if prose:
            for match in MENTION.finditer(piece):
                names.setdefault(_name(match).lower(), _name(match))
    return list(names.values())[:MAX_MENTIONS]


def person_url(*, product_key: str, username: str) -> str:
    """Where a mention of ``username`` leads: their row on the product's people page."""
    return f"{reverse('people', args=[product_key])}#person-{username}"


def mentions_linked(text: str, *, product_key: str, usernames: set[str]) -> str:
    """``text`` (Markdown) with each mention of a member (``usernames``, matched in any case)
    made a link to the person; other ``@words`` stay as written."""
    by_lower = {name.lower(): name for name in usernames}

    def link(match: re.Match) -> str:
        name = _name(match)
        username = by_lower.get(name.lower())
        if username is None:
            return match.group(0)
        rest = match.group(1)[len(name) :]
        return f"[@{username}]({person_url(product_key=product_key, username=username)}){rest}"

    return "".join(MENTION.sub(link, piece) if prose else piece for prose, piece in _outside_code(text or ""))


def comment_html(text: str, *, product_key: str, usernames: set[str]):
    """A comment as sanitized HTML, its mentions of members linked to them."""
    from backlog.rendering import markdown_html

    return markdown_html(mentions_linked(text, product_key=product_key, usernames=usernames))
