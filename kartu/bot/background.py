"""Work an update starts that outlives its handling (an owner's export): the chat stays free
meanwhile. Held here so nothing collects it, and cancelled, briefly awaited, when the process stops."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)


class Background:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self, work: Coroutine[Any, Any, None], kind: str, subject: int) -> None:
        """Run ``work`` beside the updates (in the update's context: its language, its ids in logs);
        named ``<kind>-<subject>`` (export-42) in logs."""
        task = asyncio.create_task(work, name=f"{kind}-{subject}")
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background work %s failed", task.get_name(), exc_info=task.exception())

    @property
    def running(self) -> int:
        return len(self._tasks)

    async def close(self, timeout: float = 5.0) -> None:
        """Stop what runs: each piece hears CancelledError and says so to whoever waits for it."""
        tasks = set(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)
