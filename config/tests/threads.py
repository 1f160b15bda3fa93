"""The concurrency tests' harness (PostgreSQL, real threads): each thread has its own connection
and commits for real, so the database's locks, not the test, decide who waits."""

import threading
from collections.abc import Callable

from django.db import connection

THREADS = 8


def run_in_threads(work: Callable[[int], None], threads: int = THREADS) -> list[BaseException]:
    """Start ``threads`` threads at once (a barrier), each calling ``work(its index)``; wait for
    them all and return what they raised."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads)

    def target(index: int) -> None:
        try:
            barrier.wait()
            work(index)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted on by the test
            errors.append(exc)
        finally:
            connection.close()

    workers = [threading.Thread(target=target, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return errors
