"""Settings read from the environment, with safe defaults for a local run."""

import logging
import os
from pathlib import Path

from limits import parse_many

DEFAULT_SECRET = "dev-only-insecure-secret"  # noqa: S105 - refused in production below
INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"
log = logging.getLogger(__name__)


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    """Everything configurable; `from_env()` fills it from `XIEHUI_*`-free plain names."""

    ENV = "development"
    SECRET_KEY = DEFAULT_SECRET
    SQLALCHEMY_DATABASE_URI = f"sqlite:///{INSTANCE_DIR / 'xiehui.db'}"
    # Migrations run as the owner of the tables; the app itself may connect as a role that owns
    # nothing (PostgreSQL row-level security applies to it).
    DATABASE_ADMIN_URL: str | None = None
    DATABASE_APP_ROLE = "xiehui_app"
    # The key the app enters PostgreSQL tenant scopes with (tenants/rls.py), derived from
    # SECRET_KEY when unset; `flask rls install-key` lets a new one in (as the owner).
    RLS_SCOPE_KEY: str | None = None
    # No `pool_pre_ping` round trip: app/core/pool_check.py checks pooled connections without.
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    BABEL_DEFAULT_LOCALE = "zh_Hans_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = ("zh_Hans_CN", "en")
    WTF_CSRF_TIME_LIMIT = None  # tied to the session instead, which expires on its own
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    SESSION_COOKIE_NAME = "xiehui_session"
    # Server-side sessions (Flask-Session): the cookie holds only a random id. "sqlalchemy" keeps
    # them in the database (table flask_sessions); "redis" in Redis at SESSION_REDIS_URL.
    SESSION_TYPE = "sqlalchemy"
    SESSION_REDIS_URL: str | None = None
    SESSION_PERMANENT = False  # the cookie goes when the browser closes
    # Store the session only when it changed, not on every request.
    SESSION_REFRESH_EACH_REQUEST = False
    IDLE_TIMEOUT_STAFF_MINUTES = 30
    IDLE_TIMEOUT_MEMBER_MINUTES = 120
    ABSOLUTE_SESSION_HOURS = 12
    # A session nobody signed in to (login and public pages: a CSRF token, a language).
    ANONYMOUS_SESSION_HOURS = 2
    LOGIN_MAX_FAILURES = 5
    LOGIN_LOCK_MINUTES = 15
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_LOGIN = "20 per minute"
    RATELIMIT_HEADERS_ENABLED = True
    PASSWORD_RESET_MAX_AGE_SECONDS = 3600
    INVITATION_DAYS = 7
    NOTIFICATION_BACKEND = "console"
    MAIL_FROM = "noreply@xiehui.local"
    HUEY_URL = f"sqlite:///{INSTANCE_DIR / 'jobs.db'}"
    # deploy/nginx/xiehui.conf sets client_max_body_size to the same 20 MB.
    MAX_CONTENT_LENGTH = 20 * 1024 * 1024
    # How many reverse proxies in front of the app set X-Forwarded-For/-Proto/-Host (nginx: 1).
    # 0 ignores those headers; more than the real number lets a client choose its address.
    PROXY_FIX_HOPS = 0
    # Recompute an association's dashboard figures after each commit that changed it (a job).
    # Tests switch it off except where they test the figures: inline, it runs on every commit.
    DASHBOARD_LIVE_REFRESH = True
    MAX_FORM_MEMORY_SIZE = 512 * 1024
    # Stripe Connect (online dues): the platform's secret key and its Connect webhook secret.
    # Without a key no pay button is offered. STRIPE_API_BASE points at a fake in tests.
    STRIPE_SECRET_KEY: str | None = None
    STRIPE_WEBHOOK_SECRET: str | None = None
    STRIPE_API_BASE: str | None = None
    RATELIMIT_STRIPE_WEBHOOK = "600 per minute"
    # SMS (app/core/sms.py, sms_outbox/): the backend ("console", "memory", "aliyun"; unset:
    # the same kind as NOTIFICATION_BACKEND), each association's monthly cap and the price of one
    # message in fen, the limits on asking for sign-in codes, and the secret in the URLs of the
    # provider's delivery reports and replies. The ALIYUN_SMS_* keys are read from the
    # environment by the backend itself.
    SMS_BACKEND: str | None = None
    SMS_MONTHLY_CAP = 2000
    SMS_PRICE_FEN = 5
    # Requests a second each worker process sends to the provider at most (its API's limit,
    # divided by the number of worker processes); 0: no pacing.
    SMS_RATE_PER_SECOND = 20.0
    RATELIMIT_SMS_CODE_IP = "10 per hour"
    RATELIMIT_SMS_CODE_PHONE = "3 per 15 minutes"
    RATELIMIT_SURVEY_PHONE = "5 per hour"
    ALIYUN_SMS_CALLBACK_TOKEN: str | None = None
    # A read-only replica (a hot standby) for the pages that can wait: app/core/replica.py.
    DATABASE_REPLICA_URL: str | None = None
    # A replica further behind than this is not read, and a user's reads stay on the primary
    # this long after their last write (they see what they wrote).
    REPLICA_MAX_LAG_SECONDS = 30.0
    REPLICA_RETRY_SECONDS = 30.0  # after a failed connect, read the primary this long
    TESTING = False

    @classmethod
    def from_env(cls) -> "Config":
        config = cls()
        env = os.environ
        config.ENV = env.get("XIEHUI_ENV", cls.ENV)
        config.SECRET_KEY = env.get("SECRET_KEY", cls.SECRET_KEY)
        config.SQLALCHEMY_DATABASE_URI = env.get("DATABASE_URL", cls.SQLALCHEMY_DATABASE_URI)
        config.DATABASE_ADMIN_URL = env.get("DATABASE_ADMIN_URL")
        config.DATABASE_REPLICA_URL = env.get("DATABASE_REPLICA_URL") or None
        config.REPLICA_MAX_LAG_SECONDS = float(
            env.get("REPLICA_MAX_LAG_SECONDS", cls.REPLICA_MAX_LAG_SECONDS)
        )
        config.DATABASE_APP_ROLE = env.get("DATABASE_APP_ROLE", cls.DATABASE_APP_ROLE)
        config.RLS_SCOPE_KEY = env.get("RLS_SCOPE_KEY") or None
        config.RATELIMIT_STORAGE_URI = env.get("RATELIMIT_STORAGE_URI", cls.RATELIMIT_STORAGE_URI)
        # Per client address: an office behind one NAT address may need more than the default.
        config.RATELIMIT_LOGIN = env.get("RATELIMIT_LOGIN", cls.RATELIMIT_LOGIN)
        config.NOTIFICATION_BACKEND = env.get("NOTIFICATION_BACKEND", cls.NOTIFICATION_BACKEND)
        config.SESSION_REDIS_URL = env.get("SESSION_REDIS_URL") or None
        config.SESSION_TYPE = env.get(
            "SESSION_TYPE", "redis" if config.SESSION_REDIS_URL else cls.SESSION_TYPE
        )
        config.HUEY_URL = env.get("HUEY_URL", cls.HUEY_URL)
        config.PROXY_FIX_HOPS = int(env.get("PROXY_FIX_HOPS", cls.PROXY_FIX_HOPS))
        config.STRIPE_SECRET_KEY = env.get("STRIPE_SECRET_KEY") or None
        config.STRIPE_WEBHOOK_SECRET = env.get("STRIPE_WEBHOOK_SECRET") or None
        config.STRIPE_API_BASE = env.get("STRIPE_API_BASE") or None
        config.SMS_BACKEND = env.get("SMS_BACKEND") or None
        config.SMS_MONTHLY_CAP = int(env.get("SMS_MONTHLY_CAP", cls.SMS_MONTHLY_CAP))
        config.SMS_PRICE_FEN = int(env.get("SMS_PRICE_FEN", cls.SMS_PRICE_FEN))
        config.SMS_RATE_PER_SECOND = float(env.get("SMS_RATE_PER_SECOND", cls.SMS_RATE_PER_SECOND))
        for name in ("RATELIMIT_SMS_CODE_IP", "RATELIMIT_SMS_CODE_PHONE", "RATELIMIT_SURVEY_PHONE"):
            setattr(config, name, env.get(name, getattr(cls, name)))
        config.ALIYUN_SMS_CALLBACK_TOKEN = env.get("ALIYUN_SMS_CALLBACK_TOKEN") or None
        config.SESSION_COOKIE_SECURE = _env_bool(
            "SESSION_COOKIE_SECURE", config.ENV == "production"
        )
        return config

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in dir(self) if name.isupper()}


def check_rate_limits(settings: dict) -> None:
    """Refuse to start with a rate limit Flask-Limiter would only reject at the first sign-in."""
    for name in (
        "RATELIMIT_LOGIN",
        "RATELIMIT_STRIPE_WEBHOOK",
        "RATELIMIT_SMS_CODE_IP",
        "RATELIMIT_SMS_CODE_PHONE",
        "RATELIMIT_SURVEY_PHONE",
    ):
        try:
            parse_many(settings.get(name) or "")
        except ValueError as error:
            raise RuntimeError(
                f"{name} must be a rate limit such as '20 per minute': {settings.get(name)!r}"
            ) from error


def check_production_safety(settings: dict) -> None:
    """Refuse to start a production app with settings only fit for a laptop."""
    check_rate_limits(settings)
    if str(settings.get("SESSION_TYPE", "")).lower() == "redis" and not settings.get(
        "SESSION_REDIS_URL"
    ):
        raise RuntimeError("SESSION_TYPE=redis needs SESSION_REDIS_URL (redis://host:6379/1)")
    if settings.get("ENV") != "production":
        return
    if str(settings.get("RATELIMIT_STORAGE_URI", "")).startswith("memory://"):
        log.warning(
            "RATELIMIT_STORAGE_URI is memory://: each worker process counts sign-ins on its "
            "own; set redis://… so the limit holds across workers"
        )
    if settings.get("SECRET_KEY") in (None, "", DEFAULT_SECRET) or len(settings["SECRET_KEY"]) < 32:
        raise RuntimeError(
            "SECRET_KEY must be set to a random value of 32+ characters in production"
        )
