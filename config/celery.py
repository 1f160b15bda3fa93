"""Celery application.

Without ``REDIS_URL`` tasks run in-process (eager), so a fresh machine needs nothing but
Python; with it, Redis is the broker and a worker runs the tasks (see README).
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("onebacklog")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
