"""Settings of the API benchmark's server: the app's own, plus the bare DRF baseline's URL."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
