"""`tianfu dashboard`: the dashboard on its own small aiohttp server."""

from __future__ import annotations

import logging

from aiohttp import web

from bot.settings import Settings
from bot.web.dashboard import add_dashboard
from store.db import make_session_factory

log = logging.getLogger(__name__)


def dashboard_app(settings: Settings) -> web.Application:
    """An application serving only the dashboard, over the configured database."""
    from bot.app import open_database

    engine, _ = open_database(settings)
    token = settings.dashboard_token.get_secret_value() if settings.dashboard_token else ""
    app = web.Application()
    add_dashboard(app, token=token, session_factory=make_session_factory(engine))

    async def dispose(_: web.Application) -> None:
        engine.dispose()

    app.on_cleanup.append(dispose)
    return app


def serve_dashboard(settings: Settings, host: str, port: int) -> None:
    """Serve until interrupted."""
    app = dashboard_app(settings)
    log.info("dashboard on http://%s:%s/dashboard", host, port)
    web.run_app(app, host=host, port=port, print=None)
