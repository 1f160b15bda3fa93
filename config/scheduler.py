"""The embedded schedule: celery beat's work in the served process when there is no broker.

Without ``REDIS_URL`` jobs run in-process and no beat runs, so the served process runs
``settings.CELERY_BEAT_SCHEDULE`` itself: every task once at start, then at its interval, in a
daemon thread. Only one process per database runs it (an exclusive file lock); the others stand
by and take over when it stops. Tasks are idempotent, so a run repeated by a restart is harmless.
"""

import fcntl
import hashlib
import logging
import os
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from celery.schedules import maybe_schedule
from django.conf import settings
from django.db import connections

logger = logging.getLogger(__name__)

STANDBY_SECONDS = 60.0  # how often a process without the lock tries to take it over


def lock_path(database: dict | None = None, purpose: str = "schedule") -> Path:
    """A lock file for ``purpose`` (the schedule, a product's rebalance) of a database: one per
    database, wherever it is served from.

    Beside a SQLite file (``db.sqlite3-schedule.lock``); for a database server, in the temporary
    directory under a name derived from the server and database; for an in-memory SQLite
    database, one process's own, there too with the process in the name.
    """
    database = database or settings.DATABASES["default"]
    name = str(database.get("NAME", ""))
    sqlite = database["ENGINE"].endswith("sqlite3")
    if sqlite and name and not name.startswith((":memory:", "file:")):
        return Path(f"{name}-{purpose}.lock")
    identity = "|".join(str(database.get(part, "")) for part in ("ENGINE", "NAME", "HOST", "PORT"))
    if sqlite:
        identity += f"|{os.getpid()}"
    digest = hashlib.sha256(identity.encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"onebacklog-{purpose}-{digest}.lock"


@dataclass
class EmbeddedSchedule:
    """Run ``entries`` (celery beat's format: name → {"task", "schedule", "args", "kwargs"})."""

    entries: dict
    lock_file: Path
    standby_seconds: float = STANDBY_SECONDS
    stop_event: threading.Event = field(default_factory=threading.Event)
    _lock: IO | None = None
    _last_run: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        from config.celery import app

        self._app = app
        app.loader.import_default_modules()  # registers every app's tasks (autodiscovery)
        self._schedules = {name: maybe_schedule(entry["schedule"], app=app) for name, entry in self.entries.items()}

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="embedded-schedule", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self.stop_event.set()

    def run(self) -> None:
        try:
            while not self.stop_event.is_set():
                wait = self.tick()
                connections.close_all()  # this thread's connections: none held while it sleeps
                self.stop_event.wait(wait)
        finally:
            if self._lock is not None:
                self._lock.close()  # releases the lock: a standby process takes over
                self._lock = None

    def tick(self) -> float:
        """Run what is due if this process holds the lock; return the seconds until the next tick."""
        if not self._holds_lock():
            return self.standby_seconds
        for name, schedule in self._schedules.items():
            if self.stop_event.is_set():
                break
            if name not in self._last_run or schedule.is_due(self._last_run[name]).is_due:
                self._last_run[name] = schedule.now()
                self._run(name)
        if self.stop_event.is_set():
            return 0.0
        return max(1.0, min(schedule.is_due(self._last_run[name]).next for name, schedule in self._schedules.items()))

    def _holds_lock(self) -> bool:
        if self._lock is None:
            handle = self.lock_file.open("a")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.close()
                return False
            self._lock = handle
            logger.info("Running the schedule in this process (no broker configured).")
        return True

    def _run(self, name: str) -> None:
        entry = self.entries[name]
        task = self._app.tasks[entry["task"]]
        try:
            task.apply(args=entry.get("args", ()), kwargs=entry.get("kwargs", {}), throw=True)
        except Exception:
            # A failed run must not stop the schedule: log it and try again at the next interval.
            logger.exception("Scheduled task %s failed; it runs again at its next interval.", name)


def embedded_schedule_start() -> EmbeddedSchedule | None:
    """Start the schedule in this process if jobs run in-process and it is switched on."""
    from backlog.jobs import in_process  # the one place that decides; loaded once the apps are

    if not (in_process() and settings.EMBEDDED_SCHEDULE and settings.CELERY_BEAT_SCHEDULE):
        return None
    schedule = EmbeddedSchedule(entries=settings.CELERY_BEAT_SCHEDULE, lock_file=lock_path())
    schedule.start()
    return schedule
