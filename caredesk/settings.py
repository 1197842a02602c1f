"""caredesk settings: one module, configured by CAREDESK_* environment variables."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import urlparse

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("CAREDESK_DATA_DIR", "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _env_list(name: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


def _secret_key() -> str:
    # Generated once into the data dir so sessions and signed values survive restarts.
    if key := os.environ.get("CAREDESK_SECRET_KEY"):
        return key
    path = DATA_DIR / "secret.key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = os.environ.get("CAREDESK_DEBUG", "") == "1"
# Without a public address, the one `caredesk serve` listens on (links in mail, printed URLs).
BASE_URL = os.environ.get(
    "CAREDESK_BASE_URL", f"http://127.0.0.1:{os.environ.get('CAREDESK_PORT', '8000')}"
).rstrip("/")
_base = urlparse(BASE_URL)
ALLOWED_HOSTS = _env_list("CAREDESK_ALLOWED_HOSTS") or [
    _base.hostname or "localhost",
    "localhost",
    "127.0.0.1",
    "[::1]",
    "testserver",
]
CSRF_TRUSTED_ORIGINS = [f"{_base.scheme}://{_base.netloc}"]
SECURE = _base.scheme == "https"
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Over https, browsers keep to https for a year once they have seen the site.
SECURE_HSTS_SECONDS = 365 * 24 * 3600 if SECURE else 0

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",  # serves the API docs' scripts from our own static files, as the CSP requires
    "template_partials",
    "axes",
    "huey.contrib.djhuey",
    "caredesk.core",
    "caredesk.servicemodel",
    "caredesk.people",
    "caredesk.status",
    "caredesk.tickets",
    "caredesk.sla",
    "caredesk.reports",
    "caredesk.mail",
    "caredesk.phone",
    "caredesk.api",
    "caredesk.desk",
    "caredesk.portal",
]

MIDDLEWARE = [
    "caredesk.core.health.RequestCounter",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "caredesk.core.csp.CSPMiddleware",  # django-csp's, with the fixed header built once
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "caredesk.urls"
WSGI_APPLICATION = "caredesk.wsgi.application"
AUTH_USER_MODEL = "people.User"
LOGIN_URL = "/signin/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

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
                "caredesk.core.context.service_model",
            ],
        },
    }
]

# Databases: embedded SQLite in the data dir unless CAREDESK_DATABASE_URL says otherwise.
SQLITE_PATH = DATA_DIR / "caredesk.sqlite3"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("CAREDESK_DATABASE_URL", f"sqlite:///{SQLITE_PATH}"), conn_max_age=600
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0 if os.environ.get("CAREDESK_TESTING") else 600
    DATABASES["default"]["OPTIONS"] = {
        # Writers queue behind BEGIN IMMEDIATE instead of failing on a lock upgrade.
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            " PRAGMA busy_timeout=30000; PRAGMA cache_size=-64000; PRAGMA mmap_size=268435456;"
            # Statement journals (savepoints) in memory, not a temp file made per transaction.
            " PRAGMA temp_store=MEMORY;"
        ),
    }
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}
else:
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    # Values bound by the server and statements prepared after their second use: PostgreSQL
    # then parses and plans each of the few statements every request runs once per
    # connection (0.9 instead of 1.7 ms of its CPU per case opened). Behind a pooler in
    # transaction mode that cannot keep prepared statements (PgBouncer before 1.21), add
    # ?prepare_threshold=none to the database URL.
    _threshold = str(_options.get("prepare_threshold", "2")).strip().lower()
    _options["prepare_threshold"] = int(_threshold) if _threshold.isdigit() else None
    _options["server_side_binding"] = str(_options.get("server_side_binding", "true")).lower() in (
        "true",
        "1",
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Background work: Huey on SQLite in the data dir, or on Redis when configured.
REDIS_URL = os.environ.get("CAREDESK_REDIS_URL", "")
HUEY: dict[str, object] = {
    "name": "caredesk",
    "immediate": False,
    "consumer": {"workers": 2, "worker_type": "thread", "periodic": True},
}
if REDIS_URL:
    HUEY.update({"huey_class": "huey.RedisHuey", "url": REDIS_URL})
else:
    HUEY.update({"huey_class": "huey.SqliteHuey", "filename": str(DATA_DIR / "huey.sqlite3")})

# Outbound mail.
EMAIL_URL = os.environ.get("CAREDESK_EMAIL_URL", "")
if EMAIL_URL:
    _mail = urlparse(EMAIL_URL)
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = _mail.hostname or "127.0.0.1"
    EMAIL_PORT = _mail.port or 25
    EMAIL_HOST_USER = _mail.username or ""
    EMAIL_HOST_PASSWORD = _mail.password or ""
    EMAIL_USE_TLS = _mail.scheme == "smtp+tls"
    EMAIL_USE_SSL = _mail.scheme == "smtps"
else:
    # Without an SMTP server each message is a file in the data dir, so the console of
    # `caredesk serve` stays readable (the demo's overdue cases send their notices at once).
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(DATA_DIR / "outbox")
DEFAULT_FROM_EMAIL = os.environ.get("CAREDESK_FROM_EMAIL", "caredesk@localhost")
SMTP_PORT = int(os.environ.get("CAREDESK_SMTP_PORT", "2525"))
MAIL_DOMAINS = _env_list("CAREDESK_MAIL_DOMAINS")
# Inbound mail over this size is quarantined (kept, not parsed); the API answers 413.
MAIL_MAX_BYTES = int(os.environ.get("CAREDESK_MAIL_MAX_BYTES", str(25 * 1024 * 1024)))
# authserv-ids of our own receiving servers whose Authentication-Results intake believes.
TRUSTED_AUTHSERV_IDS = _env_list("CAREDESK_TRUSTED_AUTHSERV_IDS")
# IMAP mailboxes the worker polls: imaps://user:password@host/INBOX, comma separated.
IMAP_URLS = _env_list("CAREDESK_IMAP_URL")
# Hosts webhooks (status page and outgoing) may call although they resolve to private or
# loopback addresses.
WEBHOOK_ALLOWED_HOSTS = _env_list("CAREDESK_WEBHOOK_ALLOWED_HOSTS")

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "style-src": ["'self'"],
        "script-src": ["'self'"],
        "object-src": ["'none'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
    }
}

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]  # the stylesheet and desk.js of the web UI
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(DATA_DIR / "attachments")},
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
MAX_ATTACHMENT_BYTES = int(os.environ.get("CAREDESK_MAX_ATTACHMENT_BYTES", str(25 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = 30 * 1024 * 1024

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("CAREDESK_LOG_LEVEL", "INFO")},
    # The huey logger has its own handler, so the worker does not add a second one that
    # prints every task twice at INFO: the console of `caredesk serve` stays readable.
    "loggers": {
        "axes": {"level": "WARNING"},
        "huey": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}
