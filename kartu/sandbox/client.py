"""Telegram users for tests: they write to the bot, tap buttons and read what it sent them."""

from __future__ import annotations

import itertools
import time
from typing import Any

from kartu.sandbox.emulator import BotAPIEmulator, CallbackAnswer, SentMessage

_callback_ids = itertools.count(1)


class TelegramUser:
    def __init__(
        self,
        emulator: BotAPIEmulator,
        user_id: int,
        first_name: str,
        language_code: str | None = "en",
        username: str | None = None,
    ) -> None:
        self.emulator = emulator
        self.id = user_id
        self.first_name = first_name
        self.language_code = language_code
        self.username = username
        self._read = 0  # how many of the bot's messages to this chat the test has read

    # -- the user acts ----------------------------------------------------------------------
    def _user(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.language_code:
            user["language_code"] = self.language_code
        if self.username:
            user["username"] = self.username
        return user

    def _message(self, **content: Any) -> dict[str, Any]:
        return {
            "message_id": self.emulator.new_message_id(),
            "date": int(self.emulator.now()),  # the emulator's clock: the sandbox's, moved by "+1 day"
            "chat": {"id": self.id, "type": "private", "first_name": self.first_name},
            "from": self._user(),
            **content,
        }

    async def send(self, text: str) -> int:
        """Type and send ``text``; returns the update id."""
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split()[0]
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return await self.emulator.push_update("message", self._message(**content))

    async def send_web_app_data(self, message: SentMessage, label: str, data: str) -> int:
        """What a Mini App opened from the reply keyboard's ``label`` button sends back (``sendData``):
        Telegram delivers it only from a ``web_app`` button the bot showed this person, its label
        with it."""
        button = next(
            (
                found
                for row in (message.reply_markup or {}).get("keyboard") or []
                for found in row
                if isinstance(found, dict) and found.get("text") == label and "web_app" in found
            ),
            None,
        )
        if button is None:
            raise AssertionError(f"no Mini App button {label!r} on {message.keyboard_labels()}")
        return await self.emulator.push_update(
            "message", self._message(web_app_data={"data": data, "button_text": label})
        )

    async def send_in_group(self, group_id: int, text: str, *, as_chat: bool = False) -> int:
        """Write ``text`` in a group the bot is in; ``as_chat``: posted on behalf of the group
        (an anonymous admin), so the update has ``sender_chat`` and no ``from``."""
        message: dict[str, Any] = {
            "message_id": self.emulator.new_message_id(),
            "date": int(time.time()),
            "chat": {"id": group_id, "type": "supergroup", "title": "Regulars"},
            "text": text,
        }
        if as_chat:
            message["sender_chat"] = message["chat"]
        else:
            message["from"] = self._user()
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        return await self.emulator.push_update("message", message)

    async def send_sticker(self) -> int:
        sticker = {
            "file_id": "sticker-1",
            "file_unique_id": "s1",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
        return await self.emulator.push_update("message", self._message(sticker=sticker))

    async def send_photo(self, caption: str | None = None) -> int:
        photo = [{"file_id": "user-photo-1", "file_unique_id": "up1", "width": 90, "height": 90}]
        content: dict[str, Any] = {"photo": photo}
        if caption is not None:
            content["caption"] = caption
        return await self.emulator.push_update("message", self._message(**content))

    async def send_location(self, latitude: float, longitude: float) -> int:
        """Share a location (📎 → Location)."""
        location = {"latitude": latitude, "longitude": longitude}
        return await self.emulator.push_update("message", self._message(location=location))

    async def press(
        self, message: SentMessage, label: str | None = None, *, data: str | None = None
    ) -> CallbackAnswer:
        """Tap an inline button (by a part of its label), or send raw ``data`` as a forged tap."""
        if data is None:
            matches = [b for b in message.buttons() if label is not None and label in b["text"]]
            if not matches:
                raise AssertionError(f"no button {label!r} on message: {message.body!r} {message.buttons()}")
            data = matches[0]["callback_data"]
        query_id = str(next(_callback_ids))
        # The message as Telegram attaches it to the tap: a photo keeps its caption, not a text.
        content: dict[str, Any] = {"text": message.body}
        if message.photo is not None:
            size = {"file_id": message.file_id, "file_unique_id": message.file_id, "width": 90, "height": 90}
            content = {"photo": [size], "caption": message.body}
        query = {
            "id": query_id,
            "from": self._user(),
            "chat_instance": str(self.id),
            "data": data,
            "message": {
                "message_id": message.message_id,
                "date": int(time.time()),
                "chat": {"id": message.chat_id, "type": "private"},
                "from": self.emulator.bot_user(),
                **content,
            },
        }
        await self.emulator.push_update("callback_query", query)
        return await self.emulator.wait_for(lambda: self.emulator.callback_answer(query_id))

    # -- the user reads ---------------------------------------------------------------------
    @property
    def inbox(self) -> list[SentMessage]:
        return self.emulator.messages_to(self.id)

    async def next_message(self, timeout: float = 10.0) -> SentMessage:
        """The next message from the bot that this test has not read yet."""
        await self.emulator.wait_for(lambda: len(self.inbox) > self._read, timeout)
        message = self.inbox[self._read]
        self._read += 1
        return message

    async def ask(self, text: str, timeout: float = 10.0) -> SentMessage:
        """Send ``text`` and return the bot's first reply."""
        await self.send(text)
        return await self.next_message(timeout)

    async def until(self, predicate: Any, timeout: float = 10.0) -> Any:
        """Wait until ``predicate()`` holds, e.g. an edit of a message already read."""
        return await self.emulator.wait_for(predicate, timeout)

    def reaction_to(self, update_id: int) -> list[str]:
        """The bot's reaction to what this user sent in update ``update_id`` (``send`` returns it)."""
        message = self.emulator.state.pushed[update_id]["message"]
        return self.emulator.reaction_to(message["chat"]["id"], message["message_id"])

    def commands(self) -> list[str]:
        """The commands in this user's "/" menu, as Telegram would resolve it."""
        return [command["command"] for command in self.emulator.commands_for(self.id, self.language_code)]

    def unread(self) -> list[SentMessage]:
        return self.inbox[self._read :]

    def mark_read(self) -> None:
        """Skip what the bot sent so far (a test that only cares about what comes next)."""
        self._read = len(self.inbox)
