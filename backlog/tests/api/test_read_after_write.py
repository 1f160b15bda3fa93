"""A write committed, then the database connection died: the client still gets its answer."""

import psycopg2
import pytest
from django.db import connection

from backlog.api import views
from backlog.models import Item

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _usable_connection_after():
    yield
    if connection.connection is not None and not connection.is_usable():
        connection.close()  # a failed test left it dead: the next test reconnects


def _terminate_own_connection() -> None:
    """Kill this process's database session from another one, as a failover or a restarted
    pooler would, right after the service committed."""
    pid = connection.connection.get_backend_pid()
    db = connection.settings_dict
    other = psycopg2.connect(
        dbname=db["NAME"], user=db["USER"], host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432
    )
    other.autocommit = True
    with other.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    other.close()


def _then_disconnected(monkeypatch, name: str) -> list[bool]:
    real = getattr(views, name)
    done = []

    def write_then_disconnect(**kwargs):
        result = real(**kwargs)
        _terminate_own_connection()
        done.append(True)
        return result

    monkeypatch.setattr(views, name, write_then_disconnect)
    return done


def test_a_create_answers_201_with_what_was_written(product, owner, as_role, monkeypatch):
    client = as_role("owner")
    done = _then_disconnected(monkeypatch, "item_create")
    response = client.post(
        f"/api/v1/products/{product.key}/items/", {"kind": "story", "title": "Written"}, format="json"
    )
    assert done
    assert response.status_code == 201, response.content
    assert response.json()["title"] == "Written"
    assert Item.objects.filter(product=product, title="Written").count() == 1


def test_an_edit_answers_200_with_what_was_written(product, owner, items, as_role, monkeypatch):
    client = as_role("owner")
    done = _then_disconnected(monkeypatch, "item_update")
    response = client.patch(f"/api/v1/items/{items[0].pk}/", {"title": "Edited"}, format="json")
    assert done
    assert response.status_code == 200, response.content
    assert response.json()["title"] == "Edited"
    assert response["ETag"] == f'"{items[0].pk}-{items[0].version + 1}"'


def test_a_block_move_answers_200_with_where_it_went(product, owner, items, as_role, monkeypatch):
    client = as_role("owner")
    done = _then_disconnected(monkeypatch, "items_move")
    response = client.post(
        f"/api/v1/products/{product.key}/items/move/", {"items": [f"{product.key}-3"], "to": "top"}, format="json"
    )
    assert done
    assert response.status_code == 200, response.content
    assert response.json()["position"] == 1
