import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_the_favicon_is_linked_and_served_where_browsers_look():
    client = Client()
    login = client.get("/accounts/login/")
    assert b'<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in login.content
    legacy = client.get("/favicon.ico")
    assert legacy.status_code == 301
    assert legacy["Location"] == "/static/favicon.svg"
    icon = client.get("/static/favicon.svg")
    assert icon.status_code == 200
    assert icon["Content-Type"] == "image/svg+xml"
    assert b"<svg" in b"".join(icon.streaming_content)
