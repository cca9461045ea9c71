"""The API served inside another process's event loop: `kartu run` with KARTU_API=on, where a
sale's news goes out through the bot's own courier the moment it is credited."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

import uvicorn

from kartu.api.app import create_app

if TYPE_CHECKING:
    from kartu.config import Settings
    from kartu.scheduler.dispatcher import OutboxDispatcher
    from kartu.services.container import Services


class _Embedded(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # the process's own runner handles the signals and stops this server


class ApiServer:
    def __init__(self, services: Services, settings: Settings, courier: OutboxDispatcher | None) -> None:
        config = uvicorn.Config(
            create_app(services, courier),
            host=settings.api_host,
            port=settings.api_port,
            log_level="warning",
            lifespan="off",
        )
        self.server = _Embedded(config)
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> int:
        """Listen; the port (useful when the settings ask for port 0)."""
        self.task = asyncio.create_task(self.server.serve())
        while not self.server.started:
            if self.task.done():
                self.task.result()  # the reason it could not listen (the port taken, say)
                raise RuntimeError("the API stopped before it listened")
            await asyncio.sleep(0.01)
        return int(self.server.servers[0].sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self.task is not None:
            self.server.should_exit = True
            await self.task
