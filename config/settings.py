"""OneBacklog settings, read from the environment.

The defaults are the embedded set-up: a SQLite file, jobs run in-process, DEBUG on.
``DATABASE_URL`` and ``REDIS_URL`` switch to PostgreSQL and Redis. With ``DEBUG`` off the
settings refuse to start without a real ``SECRET_KEY`` and ``ALLOWED_HOSTS``.
"""

import os
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [part.strip() for part in os.environ.get(name, default).split(",") if part.strip()]


DEBUG = env_bool("DEBUG", True)

_INSECURE_KEY = "django-insecure-local-development-only"
SECRET_KEY = os.environ.get("SECRET_KEY", _INSECURE_KEY)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver" if DEBUG else "")

if not DEBUG:
    if SECRET_KEY == _INSECURE_KEY or len(SECRET_KEY) < 32:
        raise ImproperlyConfigured("Set SECRET_KEY (at least 32 characters) when DEBUG is off.")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("Set ALLOWED_HOSTS when DEBUG is off.")
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    SECURE_CONTENT_TYPE_NOSNIFF = True
    # HTTPS only, for a year (browsers remember it): set SECURE_HSTS_SECONDS=0 to turn it off.
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    # Behind a TLS-terminating proxy that sets the header (and strips it from clients):
    # "HEADER,value", e.g. the default HTTP_X_FORWARDED_PROTO,https; empty to trust no header.
    _proxy_ssl = env_list("SECURE_PROXY_SSL_HEADER", "HTTP_X_FORWARDED_PROTO,https")
    if _proxy_ssl:
        if len(_proxy_ssl) != 2:
            raise ImproperlyConfigured("SECURE_PROXY_SSL_HEADER is HEADER,value, e.g. HTTP_X_FORWARDED_PROTO,https.")
        SECURE_PROXY_SSL_HEADER = tuple(_proxy_ssl)
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz/?$", r"^readyz/?$"]  # load balancers probe over plain HTTP

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "csp",
    "allauth",
    "allauth.account",
    "accounts",
    "backlog",
    "notifications",
    "refinement",
    "delivery",
    "service",
    "search",
    "webhooks",
]

MIDDLEWARE = [
    "config.health.HealthMiddleware",  # /healthz and /readyz, before host checks and redirects
    "config.api.ApiErrorMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "config.api.RejectNulMiddleware",
    "config.static.StaticFilesMiddleware",  # WhiteNoise, its index of files built once per process
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.user_time_zone",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

# Content-Security-Policy on every response (django-csp): scripts, styles, images and requests
# from this origin only; no inline script or style anywhere (tested over the templates).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "img-src": [SELF, "data:"],  # Swagger UI's icons are data: URIs
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Accounts are django-allauth's (sign-up, sign-in, e-mail confirmation, password change and
# reset, rate limits); accounts/adapter.py adds who may sign up and the invitations.
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
AUTHENTICATION_BACKENDS = ["accounts.backends.AuthenticationBackend"]  # a username or an e-mail address
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_FORMS = {"login": "accounts.forms.SignInForm", "signup": "accounts.forms.SignUpForm"}
ACCOUNT_SESSION_REMEMBER = True  # stay signed in across browser restarts, as before allauth
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "email*", "password1*", "password2*"]
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_CHANGE_EMAIL = True  # one address per account: /accounts/email/ confirms it, the profile changes it
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[OneBacklog] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http" if DEBUG else "https"
ACCOUNT_EMAIL_NOTIFICATIONS = True  # a changed or reset password, a changed address: the owner is told
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False  # a reset asked for an unknown address mails nobody
# Confirming the e-mail address: "optional" (a link is mailed; sign-in works meanwhile),
# "mandatory" (no sign-in before the link is followed) or "none". An invitee who came through an
# e-mailed invitation link has proved their address already.
EMAIL_VERIFICATION = os.environ.get("EMAIL_VERIFICATION", "optional" if DEBUG else "mandatory")
if EMAIL_VERIFICATION not in ("optional", "mandatory", "none"):
    raise ImproperlyConfigured("EMAIL_VERIFICATION is 'optional', 'mandatory' or 'none'.")
ACCOUNT_EMAIL_VERIFICATION = EMAIL_VERIFICATION
# Attempts per client address (ip), per account or address typed (key) and per signed-in user;
# past them allauth answers 429. Counted in the "default" cache (Redis when configured).
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
    "confirm_email": "1/3m/key",
}
ALLAUTH_TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXIES", "0"))  # the client address, as the API's

# Who may sign up: "open" (anyone), "invitation" (only with an open invitation link), "off".
# Open while developing; by invitation in production unless set.
SIGNUP = os.environ.get("SIGNUP", "open" if DEBUG else "invitation")
if SIGNUP not in ("open", "invitation", "off"):
    raise ImproperlyConfigured("SIGNUP is 'open', 'invitation' or 'off'.")
SIGNUP_EMAIL_DOMAINS = env_list("SIGNUP_EMAIL_DOMAINS", "")  # e.g. "example.com,example.org"; empty: any

# Who may start a product from the browser: "anyone" signed in, or only "staff".
PRODUCT_CREATION = os.environ.get("PRODUCT_CREATION", "anyone")
if PRODUCT_CREATION not in ("anyone", "staff"):
    raise ImproperlyConfigured("PRODUCT_CREATION is 'anyone' or 'staff'.")
INVITATION_DAYS = int(os.environ.get("INVITATION_DAYS", "7"))  # an invitation link works this long

# E-mail (invitations, confirmations, password resets): printed to the console unless an SMTP server is configured.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "OneBacklog <onebacklog@localhost>")
# Links in e-mails sent by jobs (no request to build them from): the site's address.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")
# The hour (0-23, each user's time zone) from which the daily notification digest is sent.
NOTIFICATION_DIGEST_HOUR = int(os.environ.get("NOTIFICATION_DIGEST_HOUR", "7"))
if not 0 <= NOTIFICATION_DIGEST_HOUR <= 23:
    raise ImproperlyConfigured("NOTIFICATION_DIGEST_HOUR is an hour from 0 to 23.")

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.navigation",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            "OPTIONS": {
                # Take the write lock when a transaction starts, so concurrent writers wait
                # (up to the timeout) instead of failing on a lock upgrade.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# WhiteNoise serves static files (the admin, the offline Swagger UI) from the app itself, straight
# from the apps; `manage.py collectstatic` adds compressed copies for production.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# The largest request body (bytes) read: the API answers 413 above it (Django's default, 2.5 MB).
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("DATA_UPLOAD_MAX_MEMORY_SIZE", str(2_621_440)))
# CSV imports (backlog/services/imports.py): the largest file in bytes, and the most rows.
IMPORT_MAX_BYTES = int(os.environ.get("IMPORT_MAX_BYTES", str(20 * 1024 * 1024)))
IMPORT_MAX_ROWS = int(os.environ.get("IMPORT_MAX_ROWS", "50000"))

REDIS_URL = os.environ.get("REDIS_URL", "")

# Two caches. "default" holds marks that coalesce jobs; "throttle" holds the API's request counts,
# which every process must share. With Redis both live there and fail open when it is away (see
# config/cache.py): an outage costs throttling and coalescing, never a request. Without Redis the
# counts live in a database table (created by `migrate`, see accounts/apps.py), so that every
# server process counts against the same budget.
THROTTLE_CACHE_TABLE = "onebacklog_throttle_cache"
if REDIS_URL:
    _REDIS_CACHE = {
        "BACKEND": "config.cache.ResilientRedisCache",
        "LOCATION": REDIS_URL,
        "OPTIONS": {
            "socket_connect_timeout": float(os.environ.get("REDIS_CACHE_TIMEOUT", "0.5")),
            "socket_timeout": float(os.environ.get("REDIS_CACHE_TIMEOUT", "0.5")),
        },
    }
    CACHES = {"default": _REDIS_CACHE, "throttle": _REDIS_CACHE}
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "throttle": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": THROTTLE_CACHE_TABLE,
            # Culling drops live counts too: keep room for every client of a busy minute.
            "OPTIONS": {"MAX_ENTRIES": 20000},
        },
    }

# Celery: JSON only; eager (in-process) unless a Redis broker is configured.
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"  # named: kombu warns about a missing host
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
# A job whose worker process dies (killed, out of memory) goes back to the queue instead of being
# acknowledged and dropped. A message taken by a worker that died whole is handed out again once
# the visibility timeout has passed (Redis's default is an hour), found by a sweep every 10 s of
# each running worker (kombu's default sweeps every 100 s). Every job is idempotent, but the
# whole-product ones on a product of a million items can run longer than this (a due refresh 1-3
# minutes a product, a full rebalance about 16 minutes): Redis then hands a copy to another worker,
# which repeats the work (a rebalance's copy finds the product's rebalance claimed and does
# nothing). Set CELERY_VISIBILITY_TIMEOUT above the longest run when products are that big. A
# broker that accepts connections but does not answer (hung, paused, a half-open network) must not
# hold a request either: every broker command gives up after a few seconds.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "300")),
    "unacked_restore_interval": 10,
    "unacked_restore_throttle": 1,
    "socket_timeout": 2,
    "socket_connect_timeout": 2,
}
CELERY_TIMEZONE = TIME_ZONE
# A request that enqueues a job must not hang when the broker is down: fail fast, the schedule
# catches up.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# A worker rides out a broker outage: it keeps reconnecting (also when it starts before the
# broker), however long the outage lasts. (Celery 5.7.0 exits instead when the connection drops
# while it holds an unacknowledged job; requirements.txt pins 5.6.3, see README.)
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
# Without a broker the served process runs this schedule itself (config/scheduler.py); off: nothing
# runs it unless you run ``celery beat`` yourself.
EMBEDDED_SCHEDULE = env_bool("EMBEDDED_SCHEDULE", True)

# Webhooks (webhooks/sending.py): never to private, loopback, link-local, multicast or reserved
# addresses unless allowed (a receiver on the same network); bounded waits for the receiver.
WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = env_bool("WEBHOOKS_ALLOW_PRIVATE_ADDRESSES", False)
WEBHOOKS_CONNECT_TIMEOUT = float(os.environ.get("WEBHOOKS_CONNECT_TIMEOUT", "5"))
WEBHOOKS_READ_TIMEOUT = float(os.environ.get("WEBHOOKS_READ_TIMEOUT", "10"))
WEBHOOKS_SWEEP_SECONDS = int(os.environ.get("WEBHOOKS_SWEEP_SECONDS", "5"))
# A delivery handed to a worker (or under way) that is not finished after this long is handed out
# again by the sweep (its message was lost, its worker died).
WEBHOOKS_LEASE_SECONDS = int(os.environ.get("WEBHOOKS_LEASE_SECONDS", "300"))
CELERY_BEAT_SCHEDULE = {
    # Without a broker, changes mark a product's stored suggested positions stale and this
    # refreshes them within seconds, off every request (with one, a coalesced job does).
    "refresh-stale-suggestions": {"task": "backlog.tasks.refresh_stale_suggestions", "schedule": 5.0},
    # Likewise whole-product score recomputes, off the request that changed the scoring.
    "recompute-behind-scores": {"task": "backlog.tasks.recompute_behind_scores", "schedule": 5.0},
    "refresh-due-scores": {"task": "backlog.tasks.refresh_due_scores", "schedule": 600.0},
    "rebalance-long-keys": {"task": "backlog.tasks.rebalance_long_keys", "schedule": 3600.0},
    # Blocks of the order that items leaving it left small or empty (see backlog.order_sql).
    "merge-small-order-blocks": {"task": "backlog.tasks.merge_small_order_blocks", "schedule": 3600.0},
    "flag-stale-items": {"task": "refinement.tasks.flag_stale_items", "schedule": 3600.0},
    # Hourly, so a day missed by a stopped beat is caught up; the same day's snapshot is updated.
    "snapshot-debt": {"task": "refinement.tasks.snapshot_debt", "schedule": 3600.0},
    # SLA breaches are recorded (and rescored) within a minute of the due time.
    "check-sla-clocks": {"task": "service.tasks.check_clocks", "schedule": 60.0},
    "purge-idempotency-keys": {"task": "accounts.tasks.purge_idempotency_keys", "schedule": 3600.0},
    "refresh-incident-interest": {"task": "service.tasks.refresh_causes", "schedule": 3600.0},
    # CSV imports confirmed while the broker was unreachable, or left running by a dead worker.
    "run-queued-imports": {"task": "backlog.tasks.run_queued_imports", "schedule": 300.0},
    # Hourly: each daily-digest user gets theirs once a day, from NOTIFICATION_DIGEST_HOUR in
    # their time zone; immediate e-mails a job could not send are sent again.
    "send-email-digests": {"task": "notifications.tasks.send_email_digests", "schedule": 3600.0},
    # Webhook deliveries that are due (retries; anything a dead worker or lost message left
    # behind); in process this is what sends them, off the request's thread.
    "send-due-webhooks": {"task": "webhooks.tasks.sweep", "schedule": float(WEBHOOKS_SWEEP_SECONDS)},
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
        "accounts.api.authentication.AddressBudgetAuthentication",  # last: counts what is left
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "accounts.api.permissions.TokenScope",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["accounts.api.throttling.PerTokenThrottle"],
    # How many proxies in front of the app append to X-Forwarded-For: the client address is the
    # one the outermost trusted proxy saw. 0 (the default): REMOTE_ADDR, and the header is ignored
    # (a client could otherwise name a new address per request and never be throttled).
    "NUM_PROXIES": int(os.environ.get("TRUSTED_PROXIES", "0")),
    "DEFAULT_THROTTLE_RATES": {
        "api": os.environ.get("API_THROTTLE_RATE", "1200/min"),
        "anon": os.environ.get("API_ANON_THROTTLE_RATE", "60/min"),
        # Intake takes surges (an outage brings hundreds of tickets a minute).
        "intake": os.environ.get("API_INTAKE_THROTTLE_RATE", "6000/min"),
    },
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["config.parsers.JsonBodyParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "COERCE_DECIMAL_TO_STRING": False,  # decimals are JSON numbers, in and out
}

SPECTACULAR_SETTINGS = {
    "TITLE": "OneBacklog API",
    "DESCRIPTION": (
        "One ordered backlog per product, for integrations. Authenticate with a personal API token "
        "(`Authorization: Bearer obk_…`) or the browser session. Every 4xx has the same body: "
        "`{error: {status, code, message, fields}}`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "NotificationChannel": "notifications.models.Channel",
        "ItemKind": "backlog.models.Item.Kind",
        "ItemStatus": "backlog.models.Item.Status",
        "MembershipRole": "accounts.models.Membership.Role",
        "ValueScale": "backlog.models.VALUE_CHOICES",
        "Level": "backlog.models.Item.Level",
        "Place": "backlog.api.serializers.PLACES",
        "AcceptPlace": "refinement.api.serializers.ACCEPT_PLACES",
        "SprintState": "delivery.models.Sprint.State",
        "LinkEnd": "backlog.history.LINK_ENDS",
        "LinkType": "backlog.links.END_WORDS",
        "RoadmapState": "delivery.roadmap.STATE_WORDS",
        # The history's and the change feed's entries share one enum per event type.
        **{
            "".join(part.title() for part in name.split("_")) + "EventTypeEnum": [name]
            for name in (
                "created",
                "updated",
                "status_changed",
                "moved",
                "question_asked",
                "question_answered",
                "split",
                "linked",
                "unlinked",
            )
        },
    },
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    # The schema and its docs are public and the same for everyone: no address budget for them.
    "SERVE_AUTHENTICATION": [
        "accounts.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "AUTHENTICATION_WHITELIST": [
        "accounts.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.api.document_error_responses",
    ],
}

# Ordering engine: no rank key is ever longer than this. A move whose key would be longer first
# respaces a window of neighbours (see backlog/services/ordering.py). The column holds 255.
ORDER_KEY_MAX_LENGTH = int(os.environ.get("ORDER_KEY_MAX_LENGTH", "128"))
if not 8 <= ORDER_KEY_MAX_LENGTH <= 254:
    raise ImproperlyConfigured("ORDER_KEY_MAX_LENGTH must be between 8 and 254.")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
