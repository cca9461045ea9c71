"""The messengers Kartu's customers use, and who is writing on one. A Telegram user is known by
their Telegram id (an int, as everywhere in Kartu); someone on another messenger by a
`ChannelUser`: WhatsApp's business-scoped user id (``ID.<digits>``), never their phone, which Meta
sends only sometimes and a person may change."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Channel(StrEnum):
    TELEGRAM = "telegram"
    WHATSAPP = "whatsapp"


@dataclass(frozen=True)
class ChannelUser:
    channel: Channel
    address: str


Caller = int | ChannelUser  # who is asking: a Telegram user id, or someone on another messenger


def whatsapp_user(address: str) -> ChannelUser:
    return ChannelUser(Channel.WHATSAPP, address)
