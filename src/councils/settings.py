"""Django settings, all from the environment, safe by default.

COUNCILS_DATA: the data folder (SQLite database, secret key, collected static files).
DATABASE_URL: a PostgreSQL (or other) database instead of SQLite in the data folder.
COUNCILS_DEBUG=1: development mode. COUNCILS_ALLOWED_HOSTS: extra host names, comma separated.
COUNCILS_HTTPS=1: served behind HTTPS (secure cookies, HSTS).
COUNCILS_LANGUAGE: the server's default language (en, es, fr, de); each reader's browser or choice comes first.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("COUNCILS_DATA", "councils-data")).resolve()


def _env_flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    """Generated once and kept in the data folder, so sessions survive restarts."""
    if os.environ.get("COUNCILS_SECRET_KEY"):
        return os.environ["COUNCILS_SECRET_KEY"]
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        key = secrets.token_urlsafe(50)
        # O_EXCL: two workers starting at once must agree on one key.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_text().strip()
        with os.fdopen(fd, "w") as handle:
            handle.write(key)
        return key


DEBUG = _env_flag("COUNCILS_DEBUG")
SECRET_KEY = _secret_key()
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]", "testserver"] + [
    host.strip() for host in os.environ.get("COUNCILS_ALLOWED_HOSTS", "").split(",") if host.strip()
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "ninja",
    "councils.web",
    "councils.accounts",
    "councils.assemblies",
    "councils.decisions",
    "councils.federation",
    "councils.economy",
    "councils.record",
    "django_tasks",
    "django_tasks_db",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # The language: the switcher's choice (a cookie), else the browser's Accept-Language, else English. Early, so
    # that even the refusals of the next middleware are in the reader's language.
    "django.middleware.locale.LocaleMiddleware",
    # Control characters refused in paths, queries, forms and JSON; JSON 413 for oversized API bodies; Retry-After on 429.
    "councils.web.middleware.HostileInputMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "councils.web.middleware.ContentSecurityPolicyMiddleware",
    # Members' signed acts: the signature a request carries reaches the services; Councils-Prepare answers 428.
    "councils.web.middleware.SignedActMiddleware",
    # Last, as django-axes asks, so it sees the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "councils.urls"
WSGI_APPLICATION = "councils.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"])}
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "councils.sqlite3",
            "OPTIONS": {
                # WAL lets readers go on while one writer writes; IMMEDIATE takes
                # the write lock at BEGIN so two writers queue instead of failing
                # half-way with "database is locked".
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Each worker thread keeps its connection (a new one per request cost about a millisecond on SQLite, PRAGMAs and all,
# and a process fork on PostgreSQL); a connection that died (a database restarted) is checked and replaced before use.
DATABASES["default"]["CONN_MAX_AGE"] = int(os.environ.get("COUNCILS_CONN_MAX_AGE", "600"))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
# A password-reset link is good for a day (Django's default is three).
PASSWORD_RESET_TIMEOUT = 86400
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# Login throttling: five failures for one user name from one address lock that
# pair for a quarter of an hour; other members keep logging in.
AXES_FAILURE_LIMIT = int(os.environ.get("COUNCILS_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.25
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The lock-out page says when the lock lifts and offers a password reset (a reset lifts it too).
AXES_LOCKOUT_CALLABLE = "councils.accounts.views.locked_out"
AXES_VERBOSE = False

# The languages the pages, forms, messages, emails and API error bodies are written in (src/councils/locale/).
LANGUAGES = [("en", "English"), ("es", "Español"), ("fr", "Français"), ("de", "Deutsch")]
# COUNCILS_LANGUAGE: the server's own language, for a browser that asks for none of these and for the emails the
# background worker sends (en, es, fr or de).
LANGUAGE_CODE = os.environ.get("COUNCILS_LANGUAGE", "en")
if LANGUAGE_CODE not in dict(LANGUAGES):
    raise ValueError(f"COUNCILS_LANGUAGE must be one of {', '.join(dict(LANGUAGES))}, not {LANGUAGE_CODE!r}")
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_AGE = 365 * 86400  # the switcher's choice is remembered for a year
# Dates as each language writes them (councils/formats/<language>/formats.py); numbers per language too (Django's own).
FORMAT_MODULE_PATH = ["councils.formats"]
TIME_ZONE = os.environ.get("COUNCILS_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "councils.web.views.csrf_failure"  # the site's own page, with a way back
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if _env_flag("COUNCILS_HTTPS"):
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = _env_flag("COUNCILS_SSL_REDIRECT", True)

EMAIL_BACKEND = os.environ.get("COUNCILS_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("COUNCILS_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("COUNCILS_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("COUNCILS_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("COUNCILS_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = _env_flag("COUNCILS_EMAIL_TLS")
DEFAULT_FROM_EMAIL = os.environ.get("COUNCILS_EMAIL_FROM", "councils@localhost")
# The address links in emails point to.
SITE_URL = os.environ.get("COUNCILS_SITE_URL", "http://127.0.0.1:8000")
# The name this server signs its record's checkpoints with (default: SITE_URL's host and port), and where its
# Ed25519 key is kept (default: server_key in the data folder, made on first use).
COUNCILS_SERVER_NAME = os.environ.get("COUNCILS_SERVER_NAME", "")
COUNCILS_SERVER_KEY_FILE = os.environ.get("COUNCILS_SERVER_KEY_FILE", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("COUNCILS_LOG_LEVEL", "WARNING")},
}

# Planning rounds run in a background worker (`councils worker`) fed by a task
# queue kept in the database itself, so it works on SQLite and PostgreSQL alike.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "ENQUEUE_ON_COMMIT": False}}
# A plan period whose economy has at least this many workplaces runs its councils' rules on Dask;
# COUNCILS_DASK_SCHEDULER: a Dask scheduler's address (tcp://host:8786); empty: a local cluster inside the worker.
# Dask is the optional extra `councils[dask]`; without it the rules run on numpy (same proposals, one machine).
COUNCILS_DASK_MIN_WORKPLACES = int(os.environ.get("COUNCILS_DASK_MIN_WORKPLACES", "20000"))
COUNCILS_DASK_SCHEDULER = os.environ.get("COUNCILS_DASK_SCHEDULER", "") or None
# Facilitation steps of the engine within one planning round, at most.
COUNCILS_PLANNING_ITERATIONS = int(os.environ.get("COUNCILS_PLANNING_ITERATIONS", "3000"))

NINJA_PAGINATION_PER_PAGE = 50
COUNCILS_API_RATES = {"member": os.environ.get("COUNCILS_API_RATE_MEMBER", "1200/min"), "anonymous": os.environ.get("COUNCILS_API_RATE_ANONYMOUS", "1200/min")}
NINJA_NUM_PROXIES = int(os.environ.get("COUNCILS_PROXIES", "0"))  # trusted proxies before the app: X-Forwarded-For is believed only from them
