"""Configuration: defaults, then TRACKER_* environment variables, then test overrides.

Outside development and testing a missing secret key stops the app at start-up: there is no
working fallback secret. In development the first run generates one into the instance folder.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ENVIRONMENTS = ("development", "production", "testing")


class ConfigError(RuntimeError):
    """Raised at start-up when the configuration cannot be used safely."""


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


# name -> (default, parser). Every setting can come from TRACKER_<NAME>.
SETTINGS: dict[str, tuple[Any, Any]] = {
    "ENV": ("development", str),
    "DATABASE_URL": (None, str),
    "SECRET_KEY": (None, str),
    "BASE_URL": ("http://127.0.0.1:5000", str),
    "UPLOAD_DIR": (None, str),
    "MAX_UPLOAD_MB": (25, int),
    "RATELIMIT_STORAGE_URI": ("memory://", str),
    "SESSION_IDLE_MINUTES": (60, int),
    "SESSION_ABSOLUTE_HOURS": (12, int),
    "SECURE_COOKIES": (None, _bool),
    "DEFAULT_LOCALE": ("en", str),
    "MAIL_SERVER": (None, str),
    "MAIL_PORT": (587, int),
    "MAIL_FROM": ("tracker@localhost", str),
    "LOG_LEVEL": ("INFO", str),
    "PROXY_COUNT": (0, int),
    "SINGLE_PROCESS": (False, _bool),
}

MAX_PROXY_COUNT = 5

MEMORY_STORAGE_REFUSED = (
    "TRACKER_RATELIMIT_STORAGE_URI is memory:// in production. Those counters live in one "
    "process: with several gunicorn workers each keeps its own, so login throttling and API "
    "rate limits are multiplied by the number of workers and a TOTP code can be replayed on "
    "another worker. Set TRACKER_RATELIMIT_STORAGE_URI=redis://HOST:6379, or, if this "
    "deployment really runs a single process (gunicorn --workers 1), set "
    "TRACKER_SINGLE_PROCESS=true to accept in-memory counters."
)

LOCALES = ("en", "es", "fr", "pt", "ar")


def _secret_from_instance(instance_path: Path) -> str:
    """Read the development secret key, generating it (mode 0600) on first use."""
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    return key


def build_config(instance_path: Path, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return the Flask config mapping for this process."""
    overrides = dict(overrides or {})
    values: dict[str, Any] = {}
    for name, (default, parse) in SETTINGS.items():
        raw = os.environ.get(f"TRACKER_{name}")
        try:
            values[name] = parse(raw) if raw not in (None, "") else default
        except ValueError:
            raise ConfigError(f"TRACKER_{name} must be a whole number, not {raw!r}.") from None
    # Test overrides use the short names too (ENV, DATABASE_URL, ...) or Flask's own keys.
    for name in list(overrides):
        if name in SETTINGS:
            values[name] = overrides.pop(name)

    env = values["ENV"]
    if env not in ENVIRONMENTS:
        raise ConfigError(f"TRACKER_ENV must be one of {', '.join(ENVIRONMENTS)}, not {env!r}")

    secret = values["SECRET_KEY"]
    if not secret:
        if env == "production":
            raise ConfigError(
                "TRACKER_SECRET_KEY is not set. Generate one with "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'` and set it."
            )
        secret = (
            secrets.token_urlsafe(32) if env == "testing" else _secret_from_instance(instance_path)
        )
    elif env == "production" and len(secret) < 32:
        raise ConfigError("TRACKER_SECRET_KEY must be at least 32 characters long.")

    proxies = values["PROXY_COUNT"]
    if not isinstance(proxies, int) or not 0 <= proxies <= MAX_PROXY_COUNT:
        raise ConfigError(
            f"TRACKER_PROXY_COUNT is the number of reverse proxies in front of the app "
            f"(0 to {MAX_PROXY_COUNT}), not {proxies!r}."
        )
    if (
        env == "production"
        and values["RATELIMIT_STORAGE_URI"].startswith("memory://")
        and not values["SINGLE_PROCESS"]
    ):
        raise ConfigError(MEMORY_STORAGE_REFUSED)

    base_url = str(values["BASE_URL"]).strip().rstrip("/")
    parts = urlsplit(base_url)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.query
        or parts.fragment
        or "@" in parts.netloc
    ):
        raise ConfigError(
            "TRACKER_BASE_URL is the address people open the tracker at, used for links in "
            "e-mails and exports, such as https://tracker.example.org (with http:// or "
            f"https://, no query), not {values['BASE_URL']!r}."
        )

    database_url = values["DATABASE_URL"] or f"sqlite:///{instance_path / 'tracker.sqlite3'}"
    if database_url.startswith("postgresql://"):
        # psycopg 3 is the driver we ship.
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://") :]
    upload_dir = values["UPLOAD_DIR"] or str(instance_path / "files")
    secure = values["SECURE_COOKIES"]
    if secure is None:
        secure = env == "production"

    config: dict[str, Any] = {
        "TRACKER_ENV": env,
        "TESTING": env == "testing",
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "SQLALCHEMY_RECORD_QUERIES": False,
        "TRACKER_BASE_URL": base_url,
        "UPLOAD_DIR": upload_dir,
        "MAX_CONTENT_LENGTH": values["MAX_UPLOAD_MB"] * 1024 * 1024,
        "RATELIMIT_STORAGE_URI": values["RATELIMIT_STORAGE_URI"],
        "RATELIMIT_HEADERS_ENABLED": True,
        "SESSION_IDLE_MINUTES": values["SESSION_IDLE_MINUTES"],
        "SESSION_ABSOLUTE_HOURS": values["SESSION_ABSOLUTE_HOURS"],
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure,
        "SESSION_COOKIE_NAME": "tracker_session",
        "REMEMBER_COOKIE_DURATION": 0,
        "WTF_CSRF_TIME_LIMIT": None,  # tied to the session, which has its own timeouts
        "BABEL_DEFAULT_LOCALE": values["DEFAULT_LOCALE"],
        "BABEL_DEFAULT_TIMEZONE": "UTC",
        "BABEL_TRANSLATION_DIRECTORIES": str(Path(__file__).parent / "translations"),
        "LOCALES": LOCALES,
        "MAIL_SERVER": values["MAIL_SERVER"],
        "MAIL_PORT": values["MAIL_PORT"],
        "MAIL_FROM": values["MAIL_FROM"],
        "LOG_LEVEL": values["LOG_LEVEL"],
        "PROXY_COUNT": proxies,
        "SINGLE_PROCESS": values["SINGLE_PROCESS"],
    }
    if env == "testing":
        config["RATELIMIT_STORAGE_URI"] = values["RATELIMIT_STORAGE_URI"]
    config.update(overrides)
    return config
