"""An aiohttp app served on a free port of 127.0.0.1: the emulators, and the receivers tests stand up."""

from __future__ import annotations

import socket

from aiohttp import web


async def serve_on_free_port(app: web.Application, host: str = "127.0.0.1") -> tuple[web.AppRunner, int]:
    """The running app and its port; ``runner.cleanup()`` stops it."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, 0)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now (for a server Kartu starts itself, such as WhatsApp's webhook)."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])
