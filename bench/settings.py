"""Settings of the API benchmark's server: the app's own, plus the bare DRF baseline's URL."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]

# Measure the API, not the throttle's store: without Redis the budgets live in a database table
# (a few small queries per request); with Redis, as in production, they cost no query at all.
CACHES = {**CACHES, "throttle": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}  # noqa: F405

# The scale benchmark's baseline (django-ordered-model); its table is made by the benchmark itself.
INSTALLED_APPS = [*INSTALLED_APPS, "bench.ordered_baseline"]  # noqa: F405
