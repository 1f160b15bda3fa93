"""Every URL of an app's pages and API, filled in for one product: for tests that walk them all."""

import re

from django.urls import URLPattern, URLResolver, get_resolver

PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>")


def _walk(patterns, prefix: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            view = getattr(pattern.callback, "view_class", pattern.callback)
            yield prefix + str(pattern.pattern), view.__module__


def routes_of(app: str, **values: object) -> list[str]:
    """The URLs served by ``app``'s views (pages and API) that name something (a product, an item, …),
    with each ``<parameter>`` replaced by ``values[parameter]``."""
    urls = []
    for route, module in _walk(get_resolver().url_patterns):
        if module.split(".")[0] != app or not PARAMETER.search(route):
            continue
        urls.append("/" + PARAMETER.sub(lambda found: str(values[found.group(1)]), route))
    return urls


def answers(client, url: str) -> dict[str, int]:
    """The status of each method on ``url`` (pages: GET and POST; the API: GET, POST, PATCH, DELETE)."""
    methods = ("get", "post", "patch", "delete") if url.startswith("/api/") else ("get", "post")
    return {method: getattr(client, method)(url).status_code for method in methods}


def assert_hidden(page_client, api_client, urls: list[str]) -> None:
    """Every method on every URL answers 404 (405 where the method is not served), as if nothing were there."""
    assert urls
    for url in urls:
        found = answers(api_client if url.startswith("/api/") else page_client, url)
        assert set(found.values()) <= {404, 405} and 404 in found.values(), (url, found)


def assert_any_case(page_client, api_client, urls: list[str], key: str) -> None:
    """Every URL answers a GET the same with the product key (and item keys) in lower case."""
    assert urls
    for url in urls:
        client = api_client if url.startswith("/api/") else page_client
        upper, lower = client.get(url), client.get(url.replace(key, key.lower()))
        assert upper.status_code == lower.status_code and upper.status_code in (200, 405), url
        if url.startswith("/api/") and upper.status_code == 200 and upper.streaming:  # an export
            assert b"".join(upper.streaming_content) == b"".join(lower.streaming_content), url
        elif url.startswith("/api/") and upper.status_code == 200:
            assert upper.json() == lower.json(), url
