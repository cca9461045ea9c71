"""An aiohttp app served on a free port of 127.0.0.1: the emulators, and the receivers tests stand up."""

from __future__ import annotations

from aiohttp import web


async def serve_on_free_port(app: web.Application, host: str = "127.0.0.1") -> tuple[web.AppRunner, int]:
    """The running app and its port; ``runner.cleanup()`` stops it."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, 0)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
