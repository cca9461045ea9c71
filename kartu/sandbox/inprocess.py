"""The bot and the emulator in one process, without HTTP: the fast middle tier of the tests.

aiogram serialises every call exactly as it does for Telegram (`BaseSession.prepare_value`, files
as ``attach://``), the emulator answers with the same rules and refusals as over HTTP, and aiogram
parses the answer with the same `check_response`. Updates a scripted user sends go straight to
`Dispatcher.feed_raw_update`, so a reply is there when ``ask`` returns: no polling, no sockets.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.base import BaseSession
from aiogram.enums import ParseMode
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import InputFile

from kartu.sandbox.emulator import BotAPIEmulator


class InProcessSession(BaseSession):
    """An aiogram session whose "network" is a `BotAPIEmulator` in the same event loop."""

    def __init__(self, emulator: BotAPIEmulator) -> None:
        super().__init__()
        self.emulator = emulator

    async def close(self) -> None:  # nothing to close: no connections
        return None

    async def make_request(
        self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None = None
    ) -> TelegramType:
        files: dict[str, InputFile] = {}
        params: dict[str, Any] = {}
        for key, value in method.model_dump(warnings=False).items():
            prepared = self.prepare_value(value, bot=bot, files=files)
            if prepared:
                params[key] = prepared
        for key, file in files.items():
            params[key] = (file.filename or key, b"".join([chunk async for chunk in file.read(bot)]))
        status, body = await self.emulator.call(method.__api_method__, BotAPIEmulator.parse_fields(params))
        response = self.check_response(bot=bot, method=method, status_code=status, content=json.dumps(body))
        return cast(TelegramType, response.result)

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        raise NotImplementedError("the in-process emulator serves no files")
        yield b""  # pragma: no cover  (makes this an async generator, as the base class declares)


def in_process_bot(emulator: BotAPIEmulator) -> Bot:
    """A Bot like `bot.app.build_bot`'s, talking to ``emulator`` in process."""
    from kartu.bot.app import keep_response_types

    keep_response_types()
    return Bot(
        emulator.token,
        session=InProcessSession(emulator),
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )


@asynccontextmanager
async def delivering_to(emulator: BotAPIEmulator, dispatcher: Any, bot: Bot) -> AsyncIterator[None]:
    """While the block runs, every update a scripted user sends is handled at once by ``dispatcher``."""

    async def deliver(update: dict[str, Any]) -> None:
        await dispatcher.feed_raw_update(bot, update)

    emulator.deliver = deliver
    try:
        yield
    finally:
        emulator.deliver = None
