"""Signs of life of running processes: a row per process (``kind:host:pid``), written every half
minute while it runs and removed when it stops cleanly. `kartu restore` refuses to replace a
database a bot or scheduler is beating on."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlmodel import col

from kartu.loops import repeating
from kartu.loyalty.clock import Clock
from kartu.storage.database import Database
from kartu.storage.models import ProcessBeat

log = logging.getLogger(__name__)

BEAT_EVERY = 30.0  # seconds
ALIVE_WITHIN = timedelta(minutes=2)  # a process that beat this recently is taken to be running


def process_id(kind: str) -> str:
    return f"{kind}:{socket.gethostname()}:{os.getpid()}"[:200]


async def beat(db: Database, kind: str, now: datetime) -> None:
    async with db.write() as uow:
        row = await uow.session.get(ProcessBeat, process_id(kind))
        if row is None:
            uow.session.add(ProcessBeat(id=process_id(kind), kind=kind, beat_at=now))
        else:
            row.beat_at = now


async def running(db: Database, now: datetime) -> list[ProcessBeat]:
    """The processes that beat within the last two minutes."""
    async with db.read() as uow:
        rows = await uow.session.scalars(
            select(ProcessBeat).where(col(ProcessBeat.beat_at) > now - ALIVE_WITHIN)
        )
        return list(rows)


async def stopped(db: Database, kind: str) -> None:
    async with db.write() as uow:
        await uow.session.execute(delete(ProcessBeat).where(col(ProcessBeat.id) == process_id(kind)))


@contextlib.asynccontextmanager
async def beating(db: Database, clock: Clock, kind: str) -> AsyncIterator[None]:
    """Beat while the block runs (a failed beat is logged, never fatal); gone when it ends."""

    try:  # a database down for a moment: the next beat tries again
        failed = f"heartbeat of {kind} failed"
        async with repeating(lambda: beat(db, kind, clock.now()), BEAT_EVERY, failed, logging.WARNING):
            yield
    finally:
        with contextlib.suppress(Exception):
            await stopped(db, kind)
