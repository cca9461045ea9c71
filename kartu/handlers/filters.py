"""Filters shared by the routers."""

from __future__ import annotations

from typing import Any

from aiogram.filters import Filter
from aiogram.types import Message, TelegramObject
from magic_filter import MagicFilter

from kartu.bot.i18n import KartuI18n


class MenuButton(Filter):
    """Matches a reply-keyboard button in any language (the keyboard may predate a /lang switch)."""

    def __init__(self, *message_ids: str) -> None:
        self.message_ids = message_ids

    async def __call__(self, message: Message, i18n: KartuI18n | None = None, **_: Any) -> bool:
        if message.text is None or i18n is None:
            return False
        return any(message.text in i18n.every_translation(message_id) for message_id in self.message_ids)


class OnLoop(Filter):
    """A magic filter (``F.text``, ``~F.text.startswith("/")``) checked on the event loop. aiogram
    runs any plain callable, a magic filter among them, in a worker thread for every update it
    checks (``asyncio.to_thread``): about 100 microseconds of CPU and a wait for the thread, for a
    check that takes one."""

    def __init__(self, magic: MagicFilter) -> None:
        self.magic = magic

    async def __call__(self, event: TelegramObject) -> Any:
        return self.magic.resolve(event)
