"""govhall server: queue rules, services, web API and live updates of a government service hall."""

from __future__ import annotations

__version__ = "0.1.0"

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from apiflask import APIFlask
    from flask_socketio import SocketIO

    from .db import Database
    from .settings import Settings


def create_app(settings: Settings, database: Database | None = None) -> APIFlask:
    """Wire the app: API, pages, Socket.IO, CSRF, rate limits. The factory only wires."""
    from apiflask import APIFlask
    from flask_wtf.csrf import CSRFProtect

    from . import errors
    from .api import blueprints
    from .consoles import bp as consoles_bp
    from .db import Database
    from .limits import limiter
    from .realtime.hall import HallNamespace, make_publisher
    from .runtime import ROOT, WEB, Runtime, build_version

    app = APIFlask(__name__, title="govhall API", version=__version__,
                   spec_path="/api/v1/openapi.json", docs_path=None,
                   static_folder=str(WEB), static_url_path="/static",
                   template_folder=str(ROOT / "queue_server" / "templates"))
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        JSON_AS_ASCII=False,
        MAX_CONTENT_LENGTH=1 << 20,
        RATELIMIT_STORAGE_URI=settings.rate_limit_storage or settings.redis_url or "memory://",
        # No X-RateLimit-* headers on every response: with Redis each cost a round trip per request
        # (a 429 still says Retry-After, errors.py)
        RATELIMIT_HEADERS_ENABLED=False,
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,  # Redis down: the same limits, counted per process
        SERVERS=[{"url": "/", "description": "this server"}],
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    if settings.trusted_proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies,  # type: ignore[method-assign]
                                x_proto=settings.trusted_proxies)
    errors.register(app)

    @app.before_request
    def _no_nul_in_path() -> None:
        from flask import request

        from .queue.errors import NotFound

        if "\x00" in request.path:  # PostgreSQL refuses NUL in text; nothing here can match it
            raise NotFound("不存在")
    rt = Runtime(settings=settings, database=database or Database(settings.database_url),
                 version=build_version())
    app.extensions["govhall"] = rt
    csrf = CSRFProtect(app)
    for bp in blueprints():
        csrf.exempt(bp)  # the API takes bearer tokens only, never cookies: no CSRF to forge
        app.register_blueprint(bp)
    from display.assist import bp as assist_page_bp
    from display.pages import bp as display_bp
    from kiosk.web import bp as kiosk_bp

    for bp in (display_bp, consoles_bp, kiosk_bp, assist_page_bp):
        app.register_blueprint(bp)
    if settings.demo_sfm_key is not None:
        from .demo_pages import bp as demo_bp

        app.register_blueprint(demo_bp)
    from .api import halls

    # Public reads count per address, generously: phones and screens, not a hall's one router
    limiter.limit(lambda: settings.public_rate_limit)(halls.bp)
    limiter.init_app(app)
    if app.config["RATELIMIT_STORAGE_URI"] == "memory://":
        with app.app_context():
            limiter.reset()  # in-process counts belong to this app alone
    from .services.waits import CACHE, SERVICE

    CACHE.ttl_s = SERVICE.ttl_s = settings.load_cache_s
    SERVICE.clear()
    from .services import quotes

    quotes.CACHE.ttl_s = 5 * settings.load_cache_s  # a week of calls: read again every few minutes
    quotes.CACHE.clear()
    from .auth import KNOWN, PRINCIPALS, forget_principals
    from .services.alerts import LIMITS

    LIMITS.ttl_s = min(settings.load_cache_s, 10.0)  # surge thresholds: no relay drops them elsewhere
    LIMITS.clear()

    PRINCIPALS.ttl_s = KNOWN.ttl_s = settings.auth_cache_s
    forget_principals()
    sio = _socketio(app, settings)
    namespace = HallNamespace(rt)
    sio.on_namespace(namespace)
    rt.publisher = make_publisher(rt, sio, namespace)
    return app


def _socketio(app: APIFlask, settings: Settings) -> SocketIO:
    from flask_socketio import SocketIO

    return SocketIO(app, message_queue=settings.redis_url, channel=settings.redis_channel,
                    async_mode=settings.async_mode,
                    cors_allowed_origins=[], ping_interval=10, ping_timeout=10,
                    json=None, logger=False, engineio_logger=False)
