"""Markdown to safe HTML: descriptions, acceptance criteria, comments.

Markdown is rendered, then sanitized with nh3 (the ammonia HTML sanitizer): only the tags and
attributes below survive, links keep http, https and mailto only, and scripts, event handlers,
styles and images are dropped. What is left is inert, whatever the author wrote.
"""

import markdown as markdown_lib
import nh3
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

TAGS = {
    *("p", "br", "hr", "strong", "em", "del", "code", "pre", "blockquote"),
    *("ul", "ol", "li", "a", "h1", "h2", "h3", "h4", "h5", "h6"),
    *("table", "thead", "tbody", "tr", "th", "td"),
}
ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}


def markdown_html(text: str) -> SafeString:
    """Render ``text`` (Markdown) as sanitized HTML, safe to put in a page.

    Text the Markdown parser cannot take (nesting deep enough to exhaust its recursion) is shown
    as it was written, escaped, rather than breaking every page that shows it.
    """
    try:
        rendered = markdown_lib.markdown(text or "", extensions=["tables", "fenced_code", "sane_lists"])
    except RecursionError:
        return format_html("<pre>{}</pre>", text)
    return mark_safe(  # noqa: S308 - sanitized by nh3 just above
        nh3.clean(
            rendered, tags=TAGS, attributes=ATTRIBUTES, url_schemes=URL_SCHEMES, link_rel="noopener noreferrer"
        ).strip()
    )
