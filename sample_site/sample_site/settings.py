"""Settings of the wsgi_sio demo site: a plain Django project plus "wsgi_sio.django"."""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "demo-only-not-secret-wsgi-sio-sample-site")
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"] + [
    h for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(",") if h]
# Pages served from elsewhere that may open sockets here (checked against Origin).
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "wsgi_sio.django",
    "echo",
    "chat",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "sample_site.urls"
WSGI_APPLICATION = "sample_site.wsgi.application"

TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "DIRS": [BASE_DIR / "templates"],
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]},
}]

DATABASES = {"default": {
    "ENGINE": "django.db.backends.sqlite3",
    "NAME": os.environ.get("SAMPLE_SITE_DB", BASE_DIR / "db.sqlite3"),
}}

AUTH_PASSWORD_VALIDATORS = []
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "chat"
LOGOUT_REDIRECT_URL = "echo"

# Everything has a DEBUG-aware default; these are shown for the reader.
WSGI_SIO = {
    "PING_INTERVAL": 25,
    "PING_TIMEOUT": 20,
}

# Several processes (gunicorn.conf.py's workers, several hosts) share rooms and broadcasts
# through Redis: REDIS_URL=redis://127.0.0.1:6379/0 picks the Redis manager (WSGI_SIO_REDIS_KEY:
# its channel prefix, "socket.io" by default). Without it, rooms live in the one process
# (`make run`, runserver_sio).
if os.environ.get("REDIS_URL"):
    from wsgi_sio import RedisManager

    WSGI_SIO["MANAGER"] = RedisManager(os.environ["REDIS_URL"],
                                       key=os.environ.get("WSGI_SIO_REDIS_KEY", "socket.io"))
