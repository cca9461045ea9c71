"""Guided forms keep their place in the database, so a restart or a second process continues them."""

from __future__ import annotations

from aiogram.fsm.storage.base import StorageKey

from kartu.bot.conversations import DatabaseStorage
from kartu.handlers.states import ProgramForm
from kartu.storage.database import Database

KEY = StorageKey(bot_id=42, chat_id=100, user_id=100)


async def test_state_and_data_survive_a_new_storage(db: Database) -> None:
    first = DatabaseStorage(db)
    await first.set_state(KEY, ProgramForm.value)
    await first.set_data(KEY, {"field": "stamps_required"})

    second = DatabaseStorage(db)
    assert await second.get_state(KEY) == ProgramForm.value.state
    assert await second.get_data(KEY) == {"field": "stamps_required"}
    assert await second.get_state(StorageKey(bot_id=42, chat_id=1, user_id=1)) is None

    await second.set_state(KEY, None)
    await second.set_data(KEY, {})
    assert await first.get_state(KEY) is None and await first.get_data(KEY) == {}
