"""`tianfu dashboard`: the dashboard on its own small aiohttp server."""

from __future__ import annotations

import logging

from aiohttp import web

from bot.app import Services, build_services
from bot.settings import Settings
from bot.web.dashboard import QuietAccessLogger, add_dashboard

log = logging.getLogger(__name__)


def dashboard_app(services: Services) -> web.Application:
    """An application serving only the dashboard, over the services' database."""
    token = services.settings.dashboard_token
    app = web.Application()
    add_dashboard(
        app,
        token=token.get_secret_value() if token else "",
        session_factory=services.session_factory,
    )

    async def dispose(_: web.Application) -> None:
        services.close()

    app.on_cleanup.append(dispose)
    return app


def serve_dashboard(settings: Settings, host: str, port: int) -> None:
    """Serve until interrupted."""
    app = dashboard_app(build_services(settings))
    log.info("dashboard on http://%s:%s/dashboard", host, port)
    web.run_app(app, host=host, port=port, print=None, access_log_class=QuietAccessLogger)
