"""aiogram FSM storage kept in Kartu's database: forms survive restarts and span bot processes."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StateType, StorageKey

from kartu.loyalty.clock import Clock, SystemClock
from kartu.storage.database import Database

# A guided form left alone this long no longer takes the next message as its answer: the
# owner who opened the reward-name form on Monday and types a customer code on Thursday
# gets a stamp prompt, not a reward called "RXY0-AKHZ".
FORM_IDLE = timedelta(minutes=15)
FORM_IDLE_BY_STATE = {"FeedbackForm:comment": timedelta(days=1)}  # a comment may come later that day


def form_lifetime(state: str) -> timedelta:
    return FORM_IDLE_BY_STATE.get(state, FORM_IDLE)


def storage_key(key: StorageKey) -> str:
    """The row that holds a form's state (`conversation_state.key`)."""
    return f"{key.bot_id}:{key.chat_id}:{key.thread_id or 0}:{key.user_id}:{key.destiny}"


class DatabaseStorage(BaseStorage):
    def __init__(self, db: Database, clock: Clock | None = None) -> None:
        self.db = db
        self.clock = clock or SystemClock()

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        async with self.db.write() as uow:
            await uow.conversations.put(storage_key(key), state=value, updated_at=self.clock.now())

    async def expire_if_idle(
        self, key: StorageKey, read: tuple[str | None, datetime | None] | None = None
    ) -> str | None:
        """Close the form when it has been idle past its lifetime; returns the expired state.
        ``read``: the state and its time as read when the update arrived (else read here)."""
        if read is None:
            async with self.db.read() as uow:
                row = await uow.conversations.get(storage_key(key))
            read = (row.state, row.updated_at) if row is not None else (None, None)
        state, updated_at = read
        if state is None:
            return None
        # A form saved before forms had a clock (no updated_at) is treated as idle.
        if updated_at is not None and self.clock.now() - updated_at < form_lifetime(state):
            return None
        async with self.db.write() as uow:
            await uow.conversations.put(storage_key(key), state=None, data="{}", updated_at=self.clock.now())
        return state

    async def get_state(self, key: StorageKey) -> str | None:
        async with self.db.read() as uow:
            row = await uow.conversations.get(storage_key(key))
        return row.state if row else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        async with self.db.write() as uow:
            await uow.conversations.put(
                storage_key(key), data=json.dumps(dict(data)), updated_at=self.clock.now()
            )

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        async with self.db.read() as uow:
            row = await uow.conversations.get(storage_key(key))
        return json.loads(row.data) if row else {}

    async def close(self) -> None:
        """The database outlives the dispatcher; `kartu.bot.app` disposes of it."""
