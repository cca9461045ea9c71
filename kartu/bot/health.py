"""/healthz, /readyz and /metrics on the aiohttp servers (the webhook receiver, the sandbox) and,
when KARTU_HEALTH_PORT is set, on a small server of their own for `kartu scheduler` and polling
`kartu run`. /healthz: the process lives. /readyz: 200 or 503 with each check's verdict.
/metrics: Prometheus text, only with KARTU_METRICS=on (404 otherwise)."""

from __future__ import annotations

import logging

from aiohttp import web

from kartu.config import Settings
from kartu.metrics import CONTENT_TYPE
from kartu.services.container import Services

log = logging.getLogger(__name__)


def add_health_routes(app: web.Application, services: Services, settings: Settings) -> None:
    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"alive": True})

    async def readyz(request: web.Request) -> web.Response:
        ready = await services.health.ready()
        return web.json_response(ready.as_json(), status=200 if ready.ok else 503)

    async def metrics(request: web.Request) -> web.Response:
        if not settings.metrics:
            raise web.HTTPNotFound()
        body = await services.health.metrics_text()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)


async def serve_health(services: Services, settings: Settings) -> web.AppRunner | None:
    """The health server of a process with no HTTP server of its own (KARTU_HEALTH_PORT)."""
    if not settings.health_port:
        return None
    app = web.Application()
    add_health_routes(app, services, settings)
    from kartu.bot.i18n import load_i18n
    from kartu.bot.pages import add_miniapp_routes

    add_miniapp_routes(app, services, settings, load_i18n(settings.default_language))  # polling mode's pages
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, settings.health_host, settings.health_port).start()
    log.info("serving health checks on %s:%s", settings.health_host, settings.health_port)
    return runner
