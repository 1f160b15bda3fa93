"""Highlighted matches, safe to show: the text is escaped, then only <mark> is added.

PostgreSQL's ``ts_headline`` marks matches with two private-use characters (``START``, ``STOP``)
that never reach the page: ``marked`` escapes everything else and turns them into balanced
<mark> elements. The SQLite fallback marks substrings itself and goes through the same function.
"""

import re

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

START, STOP = "\ue000", "\ue001"
HEADLINE_OPTIONS = f"StartSel={START}, StopSel={STOP}"
SNIPPET_OPTIONS = f'StartSel={START}, StopSel={STOP}, MaxWords=24, MinWords=10, MaxFragments=2, FragmentDelimiter=" … "'
SNIPPET_CHARACTERS = 160


def marked(text: str) -> SafeString:
    """``text`` escaped, with each START…STOP run as <mark>…</mark> (always balanced)."""
    parts, inside = [], False
    for piece in re.split(f"([{START}{STOP}])", text):
        if piece == START:
            if not inside:
                parts.append("<mark>")
                inside = True
        elif piece == STOP:
            if inside:
                parts.append("</mark>")
                inside = False
        else:
            parts.append(escape(piece))
    if inside:
        parts.append("</mark>")
    return mark_safe("".join(parts))  # noqa: S308 — every piece of text was escaped above


def _clean(text: str) -> str:
    return text.replace(START, "").replace(STOP, "")


def mark_terms(text: str, terms: list[str]) -> str:
    """``text`` with every case-insensitive occurrence of ``terms`` between START and STOP."""
    text = _clean(text)
    words = sorted({term for term in terms if term}, key=len, reverse=True)
    if not words:
        return text
    pattern = re.compile("|".join(re.escape(word) for word in words), re.IGNORECASE)
    return pattern.sub(lambda found: START + found.group(0) + STOP, text)


def snippet_around(texts: list[str], terms: list[str]) -> str:
    """A window of about SNIPPET_CHARACTERS around the first match in ``texts`` (in order), marked."""
    lowered = [term.lower() for term in terms if term]
    for text in texts:
        text = " ".join(_clean(text).split())
        hits = [index for term in lowered if (index := text.lower().find(term)) >= 0]
        if not hits:
            continue
        start = max(0, min(hits) - SNIPPET_CHARACTERS // 3)
        window = text[start : start + SNIPPET_CHARACTERS]
        after = " …" if start + SNIPPET_CHARACTERS < len(text) else ""
        return ("… " if start else "") + mark_terms(window, terms) + after
    return ""
