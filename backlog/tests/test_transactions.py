"""A service whose transaction loses a deadlock runs again instead of failing the request."""

import pytest
from django.db import OperationalError, transaction

from backlog.services import ordering
from backlog.transactions import ATTEMPTS, retry_on_conflict

pytestmark = pytest.mark.django_db(transaction=True)  # retries happen outside any transaction


class _DriverError(Exception):
    def __init__(self, pgcode: str) -> None:
        super().__init__(pgcode)
        self.pgcode = pgcode


def _lost(pgcode: str = "40P01") -> OperationalError:
    error = OperationalError("deadlock detected")
    error.__cause__ = _DriverError(pgcode)  # as Django wraps psycopg2's error
    return error


def _failing(times: int, pgcode: str = "40P01"):
    calls = []

    @retry_on_conflict
    def service(*, value):
        calls.append(value)
        if len(calls) <= times:
            raise _lost(pgcode)
        return value

    return service, calls


@pytest.mark.parametrize("pgcode", ["40P01", "40001"])
def test_a_lost_deadlock_or_serialization_conflict_is_run_again(pgcode):
    service, calls = _failing(2, pgcode)
    assert service(value=7) == 7
    assert len(calls) == 3


def test_other_database_errors_and_endless_conflicts_go_up():
    service, calls = _failing(1, "08006")  # connection failure: not ours to retry
    with pytest.raises(OperationalError):
        service(value=1)
    assert len(calls) == 1
    service, calls = _failing(ATTEMPTS)
    with pytest.raises(OperationalError):
        service(value=1)
    assert len(calls) == ATTEMPTS


def test_inside_an_outer_transaction_nothing_is_retried():
    service, calls = _failing(1)
    with pytest.raises(OperationalError), transaction.atomic():
        service(value=1)
    assert len(calls) == 1


def test_a_block_move_that_loses_a_deadlock_answers_200(product, owner, items, as_role, monkeypatch):
    real = ordering._write_ranks
    raised = []

    def deadlocked_once(*args):
        if not raised:
            raised.append(True)
            raise _lost()
        return real(*args)

    monkeypatch.setattr(ordering, "_write_ranks", deadlocked_once)
    response = as_role("owner").post(
        f"/api/v1/products/{product.key}/items/move/",
        {"items": [f"{product.key}-3", f"{product.key}-2"], "to": "top"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert raised
    assert response.json()["items"] == [f"{product.key}-2", f"{product.key}-3"]


def _pauses(monkeypatch) -> list[float]:
    from backlog import transactions

    slept: list[float] = []
    monkeypatch.setattr(transactions.time, "sleep", slept.append)
    return slept


def test_a_paced_chunk_is_followed_by_a_pause_as_long_as_it_took(monkeypatch):
    import time

    from backlog import transactions

    slept = _pauses(monkeypatch)
    with transactions.paced():
        began = time.monotonic()
        while time.monotonic() - began < 0.02:  # a chunk of 20 ms (time.sleep is the recorder here)
            pass
    [pause] = slept
    assert 0.02 * transactions.CHUNK_PAUSE <= pause <= transactions.CHUNK_PAUSE_MOST
    with transactions.paced(pause=1_000):  # a slow chunk: the pause is capped
        began = time.monotonic()
        while time.monotonic() - began < 0.02:
            pass
    assert slept[1] == transactions.CHUNK_PAUSE_MOST
    with transactions.paced(pause=0):
        pass
    with transactions.paced() as chunk:  # a chunk that wrote nothing, or the last
        chunk.skip()
    assert len(slept) == 2


def test_no_pause_inside_a_callers_transaction(monkeypatch):
    """A pause there would keep the caller's locks held longer."""
    from backlog import transactions

    slept = _pauses(monkeypatch)
    with transaction.atomic(), transactions.paced():
        pass
    assert slept == []
