"""One settings file, driven by environment variables.

With no configuration at all the portal runs on a SQLite file, runs Celery tasks eagerly
in-process and caches in local memory, so a fresh clone works with `make run`.
DATABASE_URL switches to PostgreSQL, REDIS_URL switches Celery's broker and the cache to
Redis. Every variable is listed in the README's configuration table.
"""

import datetime
import json
import os
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
import leaflet
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEVELOPMENT_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"

DEBUG = env_bool("DEBUG", True)
SECRET_KEY = os.environ.get("SECRET_KEY", DEVELOPMENT_SECRET_KEY)
if not DEBUG and (SECRET_KEY == DEVELOPMENT_SECRET_KEY or len(SECRET_KEY) < 32):
    raise ImproperlyConfigured(
        "Refusing to start with DEBUG off and no real SECRET_KEY: set SECRET_KEY to a random "
        "string of at least 32 characters."
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "ksbb.admin_site.PortalAdminConfig",  # the stock admin, guarded against bad input
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Redoc served from a Python package
    "ksbb",
    "programs",
    "locations",
    "collaborators",
    "commitments",
    # Nested apps with their own tables and migrations; layered in pyproject.toml.
    "commitments.adoption",
    "commitments.assets",
    "commitments.pooling",
    "commitments.feedback",
    "commitments.privacy",
    "api",
    "axes",
    "csp",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # ETags and 304s for the API's reads (/api/ only).
    "api.middleware.ApiConditionalGetMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Before any view reads a parameter: PostgreSQL cannot take text with a NUL byte.
    "api.middleware.ApiRefuseNulBytesMiddleware",  # the same, as a problem body for /api/
    "ksbb.middleware.RefuseNulBytesMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: it turns a locked-out sign-in into the lock-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "ksbb.urls"
WSGI_APPLICATION = "ksbb.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "commitments.web.context_processors.notifications",
                "locations.context_processors.city",
            ],
        },
    },
]

# Database: a SQLite file unless DATABASE_URL is set.
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL,
            conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
            conn_health_checks=True,
        )
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            "OPTIONS": {
                # Writers take the lock when the transaction starts, so a read-then-write
                # transaction never fails half-way with "database is locked".
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
            # A file, not Django's shared in-memory database: concurrency tests need real
            # SQLite locking between connections.
            "TEST": {
                "NAME": os.path.join(tempfile.gettempdir(), f"ksbb-test-{os.getpid()}.sqlite3")
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache and Celery: local memory and eager tasks unless REDIS_URL is set.
REDIS_URL = os.environ.get("REDIS_URL", "")
CACHE_KEY_PREFIX = os.environ.get("CACHE_KEY_PREFIX", "ksbb")
# Every call to Redis (cache or broker) gives up after this long: a Redis that is down or
# hung slows a request by a bounded amount and never fails it.
REDIS_TIMEOUT = float(os.environ.get("REDIS_TIMEOUT", "0.5"))


def redis_cache(url: str, *, key_prefix: str) -> dict:
    # django-redis, not Django's own RedisCache: it can log and ignore a Redis that is down
    # (a miss; callers fall back to the database) instead of raising into the request.
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": url,
        "KEY_PREFIX": key_prefix,
        "OPTIONS": {
            "IGNORE_EXCEPTIONS": True,
            "SOCKET_CONNECT_TIMEOUT": REDIS_TIMEOUT,
            "SOCKET_TIMEOUT": REDIS_TIMEOUT,
        },
    }


DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True


if REDIS_URL:
    CACHES = {"default": redis_cache(REDIS_URL, key_prefix=CACHE_KEY_PREFIX)}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "ksbb",
            "KEY_PREFIX": CACHE_KEY_PREFIX,
            "OPTIONS": {"MAX_ENTRIES": 2000},
        }
    }

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
# Acknowledge on receipt by default: a task opts into acks_late (redelivery after a crash)
# only where running it again is harmless (see commitments/tasks.py).
CELERY_TASK_ACKS_LATE = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "Asia/Jakarta"
CELERY_BEAT_SCHEDULE = {
    "expire-commitments": {"task": "commitments.tasks.expire_commitments", "schedule": 3600},
    "end-adoptions": {"task": "commitments.tasks.end_adoptions", "schedule": 3600},
    "send-pending-notifications": {
        "task": "commitments.tasks.send_pending_notifications",
        "schedule": 60,
    },
    "refresh-totals": {"task": "commitments.tasks.refresh_totals", "schedule": 600},
    # Catch-up for summaries marked stale while the broker was down; a no-op otherwise.
    "refresh-summaries": {"task": "commitments.tasks.refresh_summaries", "schedule": 60},
    "rebuild-summaries": {
        "task": "commitments.tasks.rebuild_summaries",
        "schedule": crontab(hour=2, minute=30),
    },
    # Expired needs leave the map within the hour; reminders go out once per need anyway.
    "freshen-needs": {"task": "commitments.tasks.freshen_needs", "schedule": 3600},
    # Recipients' reports past their answer time go to the administrators, once each.
    "escalate-overdue-reports": {
        "task": "commitments.tasks.escalate_overdue_reports",
        "schedule": 3600,
    },
    "forget-stored-files": {
        "task": "commitments.tasks.forget_stored_files",
        "schedule": crontab(hour=3, minute=15),
    },
    # Personal data (README "Personal data"): erasures due within 3 x 24 h, proven hourly;
    # retention of sign-up data, complaint contacts and access logs daily.
    "run-erasures": {"task": "commitments.tasks.run_erasures", "schedule": 3600},
    "forget-personal-data": {
        "task": "commitments.tasks.forget_personal_data",
        "schedule": crontab(hour=3, minute=30),
    },
    # Answers kept for Idempotency-Key retries (api.idempotency.KEEP_DAYS, 14 days).
    "forget-idempotent-requests": {
        "task": "api.tasks.forget_idempotent_requests",
        "schedule": crontab(hour=3, minute=45),
    },
    # Monday 07:00 in Jakarta (CELERY_TIMEZONE). Idempotent per ISO week, so a rerun or an
    # hourly schedule would send nothing twice.
    "send-weekly-digests": {
        "task": "commitments.tasks.send_weekly_digests",
        "schedule": crontab(hour=7, minute=0, day_of_week="monday"),
    },
    # The first day of each quarter, 08:00 in Jakarta: what the quarter that ended did.
    # Idempotent per collaborator and quarter, so a rerun sends nothing twice.
    "send-quarterly-summaries": {
        "task": "commitments.tasks.send_quarterly_summaries",
        "schedule": crontab(hour=8, minute=0, day_of_month=1, month_of_year="1,4,7,10"),
    },
}
# A pledge must never wait on a broken broker: publishing fails fast and the outbox
# (pending notifications) is retried by the periodic task instead.
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_TIMEOUT
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # A job whose worker died before acknowledging it (acks_late) is delivered again this
    # many seconds after it was first delivered; keep it above the longest job.
    "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600")),
    "socket_connect_timeout": REDIS_TIMEOUT,
    "socket_timeout": REDIS_TIMEOUT,
    "max_retries": 0,  # connecting to publish: one attempt, no sleeping between retries
}

# The health endpoint reports "degraded" once a change has waited this long for its
# summary (the periodic catch-up runs every minute).
SUMMARY_MAX_AGE_SECONDS = int(os.environ.get("SUMMARY_MAX_AGE_SECONDS", "600"))
# The reporting organisation in IATI-style exports: set the city's registered IATI
# organisation identifier; the default only names the program.
IATI_REPORTING_ORG_REF = os.environ.get("IATI_REPORTING_ORG_REF", "ID-JK-KSBB")
# The city the portal runs for (locations/city.py): CITY names its folder under
# locations/data/cities (empty: Jakarta, loaded by load_jakarta; `make run CITY=yogyakarta`),
# CITY_NAME the name on the pages (default: the name in the city's city.json, or Jakarta).
CITY = os.environ.get("CITY", "")


def city_name_default(city: str) -> str:
    if not city:
        return "Jakarta"
    config = BASE_DIR / "locations" / "data" / "cities" / city / "city.json"
    try:
        return str(json.loads(config.read_text(encoding="utf-8"))["name"])
    except (OSError, ValueError, KeyError) as exc:
        raise ImproperlyConfigured(f"CITY={city}: {config} names no city ({exc!r})") from None


CITY_NAME = os.environ.get("CITY_NAME") or city_name_default(CITY)

# Passwords
# django-axes first: it refuses a locked-out sign-in before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "collaborators.accounts.EmailBackend",
]
# Lock-out after repeated failed sign-ins, counted per account and per client separately
# (either one locks), in the database so that every web process sees the same count.
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "10"))
AXES_COOLOFF_TIME = datetime.timedelta(minutes=int(os.environ.get("LOGIN_LOCKOUT_MINUTES", "30")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "collaborators.accounts.lockout_username"
AXES_LOCKOUT_CALLABLE = "collaborators.accounts.lockout_response"
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
# The client is REMOTE_ADDR unless the portal sits behind that many trusted proxies, whose
# X-Forwarded-For then names it; a header a client sets itself is never believed.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))
if TRUSTED_PROXY_COUNT:
    AXES_IPWARE_PROXY_COUNT = TRUSTED_PROXY_COUNT
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
else:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]
# Verification and password-reset links stay valid this long.
PASSWORD_RESET_TIMEOUT = 3 * 24 * 3600
# Uploads: proofs of delivery and statement letters.
UPLOAD_MAX_BYTES = int(os.environ.get("UPLOAD_MAX_BYTES", str(8 * 1024 * 1024)))
UPLOAD_MAX_FILES = 5
# How long files are kept (commitments.housekeeping.retention): a written export's, an import's.
EXPORT_FILE_DAYS = int(os.environ.get("EXPORT_FILE_DAYS", "7"))
IMPORT_FILE_DAYS = int(os.environ.get("IMPORT_FILE_DAYS", "30"))
# Personal data kept only as long as it is of use (Law 27/2022; README "Personal data").
ACCESS_LOG_DAYS = int(os.environ.get("ACCESS_LOG_DAYS", "365"))
# Accounts whose email was never verified, and WhatsApp codes never typed back.
UNVERIFIED_ACCOUNT_DAYS = int(os.environ.get("UNVERIFIED_ACCOUNT_DAYS", "30"))
SIGNUP_CODE_DAYS = int(os.environ.get("SIGNUP_CODE_DAYS", "7"))
# A reporter's phone and email, counted from the day their report was closed.
REPORT_CONTACT_DAYS = int(os.environ.get("REPORT_CONTACT_DAYS", "90"))
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Internationalisation: Indonesian first, English second.
LANGUAGE_CODE = "id"
LANGUAGES = [("id", _("Bahasa Indonesia")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Jakarta"
USE_TZ = True

# Static and uploaded files
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
# django-leaflet ships Leaflet; its static files are used directly because installing the
# app would import its GeoDjango admin widgets, which need the GDAL system library.
STATICFILES_DIRS = [BASE_DIR / "static", Path(leaflet.__file__).resolve().parent / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
# Proofs of delivery and statement letters (ksbb.storage.PrivateStorage): never under
# MEDIA_URL, served only through views that check who may see them.
PRIVATE_MEDIA_ROOT = Path(os.environ.get("PRIVATE_MEDIA_ROOT", BASE_DIR / "private-media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedStaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# Email: printed to the console unless an SMTP host is configured.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
# A slow mail server delays an email, never a page: sending gives up after this long.
EMAIL_TIMEOUT = float(os.environ.get("EMAIL_TIMEOUT", "5"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "KSBB <noreply@ksbb.local>")

# WhatsApp messages (ksbb/whatsapp.py): none unless a provider is configured; without one,
# people get email and the portal offers ready-to-send wa.me links instead.
WHATSAPP_PROVIDER = os.environ.get("WHATSAPP_PROVIDER", "")  # "" or "cloud_api"
WHATSAPP_API_URL = os.environ.get("WHATSAPP_API_URL", "https://graph.facebook.com/v21.0")
WHATSAPP_PHONE_NUMBER_ID = os.environ.get("WHATSAPP_PHONE_NUMBER_ID", "")
WHATSAPP_TOKEN = os.environ.get("WHATSAPP_TOKEN", "")
# Business-initiated messages outside WhatsApp's 24-hour window need an approved template.
WHATSAPP_TEMPLATE_NAME = os.environ.get("WHATSAPP_TEMPLATE_NAME", "")
WHATSAPP_TEMPLATE_LANGUAGE = os.environ.get("WHATSAPP_TEMPLATE_LANGUAGE", "id")
WHATSAPP_TIMEOUT = float(os.environ.get("WHATSAPP_TIMEOUT", "5"))

# Recipients' reports (commitments.feedback): the number a wa.me link opens (no link when
# unset), reports one address may send (django-ratelimit, counted in the default cache:
# Redis in production; locmem counts per process in the embedded single-process mode, which
# is why django_ratelimit is not in INSTALLED_APPS: its check refuses locmem), and the
# fewest seconds between showing the form and sending it (faster is a robot).
FEEDBACK_WHATSAPP_NUMBER = os.environ.get("FEEDBACK_WHATSAPP_NUMBER", "")
FEEDBACK_RATE = os.environ.get("FEEDBACK_RATE", "5/h")
FEEDBACK_MIN_FILL_SECONDS = int(os.environ.get("FEEDBACK_MIN_FILL_SECONDS", "3"))

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "workspace"
LOGOUT_REDIRECT_URL = "home"

# Production hardening, on whenever DEBUG is off.
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # Container healthchecks and monitors inside the network call it over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^kesehatan/$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "api.schema.ProblemAutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    # Tokens first: an unauthenticated request gets 401 with a Bearer challenge.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "EXCEPTION_HANDLER": "api.errors.problem_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "api.throttling.AnonThrottle",
        "api.throttling.UserThrottle",
        "api.throttling.ScopedThrottle",
    ],
    # Counted in the cache (Redis in production); "pledge" and "signin" are the tighter
    # scopes of pledging and of signing in / creating API tokens.
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("API_THROTTLE_ANON", "120/min"),
        "user": os.environ.get("API_THROTTLE_USER", "600/min"),
        "pledge": os.environ.get("API_THROTTLE_PLEDGE", "30/min"),
        "signin": os.environ.get("API_THROTTLE_SIGNIN", "10/min"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "KSBB portal API",
    "DESCRIPTION": (
        "API v1 of the Large-Scale Social Collaboration (KSBB) portal: programs, needs, "
        "areas, sites, collaborators and public figures; your own commitments and "
        "notifications. Authenticate with `Authorization: Bearer <key>` (keys at "
        "/akun/token-api/) or the portal's session. Errors are RFC 9457 problem details."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.add_read_links",
    ],
    "ENUM_NAME_OVERRIDES": {
        "CommitmentStatusEnum": "commitments.models.Status",
        "NeedStatusEnum": "locations.models.Need.Status",
        "ProgramStatusEnum": "programs.models.Program.Status",
    },
}

# The base map. Tiles load from the internet; the map stays usable without them.
MAP_TILE_URL = os.environ.get("MAP_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
MAP_TILE_ATTRIBUTION = os.environ.get(
    "MAP_TILE_ATTRIBUTION",
    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
)
LEAFLET_CONFIG = {
    "DEFAULT_CENTER": (-6.2, 106.83),
    "DEFAULT_ZOOM": 11,
    "TILES": [("OpenStreetMap", MAP_TILE_URL, {"attribution": MAP_TILE_ATTRIBUTION})],
    "RESET_VIEW": False,
}


def content_security_policy(tile_url: str) -> dict:
    """Only the portal's own scripts, styles and data (no inline code), plus images from
    the base map's tile server."""
    tiles = urlsplit(tile_url)
    # Leaflet's {s} picks one of several subdomains.
    tile_origin = f"{tiles.scheme}://{tiles.netloc.replace('{s}', '*')}"
    return {
        "DIRECTIVES": {
            "default-src": [SELF],
            "img-src": [SELF, "data:", tile_origin],
            "script-src": [SELF],
            "style-src": [SELF],
            # The installable app: its manifest and service worker are the portal's own.
            "manifest-src": [SELF],
            "worker-src": [SELF],
            "object-src": [NONE],
            "base-uri": [SELF],
            "form-action": [SELF],
            "frame-ancestors": [NONE],
        }
    }


CONTENT_SECURITY_POLICY = content_security_policy(MAP_TILE_URL)

# The installable app (ksbb/pwa.py): the manifest's colours, those of static/favicon.svg.
PWA_THEME_COLOR = "#0b5c8a"
PWA_BACKGROUND_COLOR = "#ffffff"
# No page needs these browser features; a script injected some day cannot use them either.
PERMISSIONS_POLICY = dict.fromkeys(
    [
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
    ],
    [],
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # Naming "django" here drops the console handler Django's default logging gives it;
        # kept, every django.* line printed once there and once more through root.
        "django": {"level": "INFO"},
        "django.db.backends": {"level": "WARNING"},
    },
}
