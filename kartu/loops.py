"""Work repeated in the background while a block runs (a heartbeat, the looks for what a stopped
process left): a failed round is logged, never fatal, and the next one tries again."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

log = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def repeating(
    work: Callable[[], Awaitable[object]], every: float, failed: str, level: int = logging.ERROR
) -> AsyncIterator[None]:
    """``work()`` now and every ``every`` seconds until the block ends; ``failed`` is logged (at
    ``level``, with the error) for a round that raised."""

    async def rounds() -> None:
        while True:
            try:
                await work()
            except Exception:
                log.log(level, failed, exc_info=True)
            await asyncio.sleep(every)

    task = asyncio.create_task(rounds())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
