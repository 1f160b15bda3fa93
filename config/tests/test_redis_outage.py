"""Redis down is not the site down: with the cache's Redis (the broker's) stopped, the API and the
pages answer and save, without waiting on it; throttling resumes when Redis is back.

In this process jobs run in-process; test_outage_end_to_end.py runs the real thing (a broker) in a
server process of its own."""

import time

import pytest
import redis
from django.test import Client, override_settings
from rest_framework.test import APIClient

from accounts.services import token_create
from backlog.models import Item

pytestmark = [pytest.mark.redis, pytest.mark.django_db]


def caches_on(url: str) -> dict:
    cache = {"BACKEND": "config.cache.ResilientRedisCache", "LOCATION": url, "OPTIONS": {"pause_seconds": 0.2}}
    return {"default": cache, "throttle": cache}


def throttle_keys(url: str) -> list[bytes]:
    return redis.Redis.from_url(url).keys("*throttle:api:*")


def test_the_api_and_the_pages_serve_and_save_while_redis_is_away(redis_server, product, owner, items):
    api = APIClient()
    _, raw = token_create(user=owner, name="outage")
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    page = Client()
    page.force_login(owner)
    with override_settings(CACHES=caches_on(redis_server.url)):
        assert api.get(f"/api/v1/products/{product.key}/items/").status_code == 200
        assert throttle_keys(redis_server.url)  # the count lives in Redis

        redis_server.stop()
        started = time.monotonic()
        listed = api.get(f"/api/v1/products/{product.key}/items/")
        edited = api.patch(f"/api/v1/items/{items[0].pk}/", {"title": "Saved anyway"}, format="json")
        created = api.post(
            f"/api/v1/products/{product.key}/items/", {"kind": "story", "title": "New anyway"}, format="json"
        )
        shown = page.get(f"/p/{product.key}/")
        item = Item.objects.get(pk=items[1].pk)
        form = page.post(
            f"/p/{product.key}/{item.number}/edit/", {"kind": "story", "title": "Form saved", "version": item.version}
        )
        signing_in = Client().post(
            "/accounts/login/", {"login": owner.username, "password": "correct horse battery staple"}
        )
        seconds = time.monotonic() - started

        assert signing_in.status_code == 302  # allauth's rate limits fail open too
        assert [listed.status_code, edited.status_code, created.status_code, shown.status_code] == [200, 200, 201, 200]
        assert form.status_code == 302
        assert Item.objects.get(pk=items[0].pk).title == "Saved anyway"
        assert Item.objects.get(pk=items[1].pk).title == "Form saved"
        assert Item.objects.filter(product=product, title="New anyway").exists()
        assert seconds < 5  # nothing waited on the missing Redis

        redis_server.start()  # the same port, empty
        time.sleep(0.3)  # the pause after a failure
        assert api.get(f"/api/v1/products/{product.key}/items/").status_code == 200
        assert throttle_keys(redis_server.url)  # counting again
