"""Every notifications page and API URL that names a product or item: 404 for outsiders (nothing
changed), keys in any case for members."""

import pytest
from django.test import Client

from accounts.tests.routes import assert_any_case, assert_hidden, routes_of
from notifications.models import Watch

pytestmark = pytest.mark.django_db


def test_outsiders_get_404_on_every_notifications_url(product, story, outsider, as_role):
    urls = routes_of("notifications", key=product.key, number=story.number, ref=story.key)
    assert len(urls) == 3  # people, watch (page), watch (API)
    page = Client()
    page.force_login(outsider)
    assert_hidden(page, as_role("outsider"), urls)
    assert as_role("outsider").put(f"/api/v1/items/{story.key}/watch/").status_code == 404
    assert not Watch.objects.filter(user=outsider).exists()


def test_every_notifications_url_takes_keys_in_any_case(product, story, owner, as_role):
    page = Client()
    page.force_login(owner)
    urls = routes_of("notifications", key=product.key, number=story.number, ref=story.key)
    assert_any_case(page, as_role("owner"), urls, product.key)
