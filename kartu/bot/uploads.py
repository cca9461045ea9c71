"""Pictures Telegram already has: after the first upload, a picture is sent by its `file_id`.

A card picture shows the shop, the count and the reward, never the person, so most customers
at the same count get the same picture: it is drawn once (`render_card` is cached) and uploaded
once per bot and process. If Telegram ever refuses a remembered `file_id`, the picture is
uploaded again, so a card update is never lost to a stale id.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from weakref import WeakKeyDictionary

from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import InputFile, Message

MAX_REMEMBERED = 10_000  # distinct pictures; a file_id is about 80 bytes


class UploadedPictures:
    def __init__(self, size: int = MAX_REMEMBERED) -> None:
        self._file_ids: OrderedDict[Hashable, str] = OrderedDict()
        self._size = size
        self.uploads = 0
        self.reuses = 0

    async def send(
        self, key: Hashable, file: InputFile, send: Callable[[InputFile | str], Awaitable[Message]]
    ) -> Message:
        """Send the picture ``key`` with ``send``: by file_id when Telegram has it, else uploaded."""
        file_id = self._file_ids.get(key)
        if file_id is not None:
            try:
                message = await send(file_id)
            except TelegramBadRequest:
                self._file_ids.pop(key, None)  # expired or foreign: upload it again below
            else:
                self._file_ids.move_to_end(key)
                self.reuses += 1
                return message
        message = await send(file)
        self.uploads += 1
        if message.photo:
            self._file_ids[key] = message.photo[-1].file_id
            while len(self._file_ids) > self._size:
                self._file_ids.popitem(last=False)
        return message


# Keyed by the bot's session, not the bot: aiogram's Bot compares equal by token, and a
# file_id belongs to the Telegram server that issued it (tests run many emulators, one token).
_PER_SESSION: WeakKeyDictionary[BaseSession, UploadedPictures] = WeakKeyDictionary()


def uploads_of(bot: Bot) -> UploadedPictures:
    """The pictures this bot has uploaded through its session."""
    uploads = _PER_SESSION.get(bot.session)
    if uploads is None:
        uploads = _PER_SESSION[bot.session] = UploadedPictures()
    return uploads
