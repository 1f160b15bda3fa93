"""Idempotency keys under real concurrency on PostgreSQL: identical requests at once create once."""

import threading

import pytest
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import IdempotencyKey, Membership
from accounts.services import token_create
from accounts.tests.factories import MembershipFactory
from backlog.models import Item

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 8


def test_identical_requests_at_once_create_one_item_and_all_get_its_answer():
    cache.clear()
    membership = MembershipFactory(role=Membership.Role.OWNER)
    product = membership.product
    _, raw = token_create(user=membership.user, name="retrying client")
    barrier, answers, errors = threading.Barrier(THREADS), [], []

    def send() -> None:
        try:
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
            barrier.wait()
            response = client.post(
                f"/api/v1/products/{product.key}/items/",
                {"kind": "story", "title": "Once only"},
                format="json",
                HTTP_IDEMPOTENCY_KEY="same-key",
            )
            answers.append((response.status_code, response.json()))
        except BaseException as error:  # noqa: BLE001 - asserted below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Item.objects.filter(product=product, title="Once only").count() == 1
    assert IdempotencyKey.objects.count() == 1
    assert {status for status, _ in answers} == {201}
    assert len({body["id"] for _, body in answers}) == 1
