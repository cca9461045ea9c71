"""A local stand-in for Telegram: a Bot API emulator on 127.0.0.1 and users that talk to it.

Used by the end-to-end tests; the real bot talks to it over HTTP exactly as to Telegram.
"""

from kartu.sandbox.client import TelegramUser
from kartu.sandbox.emulator import BotAPIEmulator, SentMessage

__all__ = ["BotAPIEmulator", "SentMessage", "TelegramUser"]
