"""The messengers Kartu's customers use, and who is writing on one. A Telegram user is known by
their Telegram id (an int, as everywhere in Kartu); someone on another messenger by a
`ChannelUser`: WhatsApp's business-scoped user id (``ID.<digits>``), never their phone, which Meta
sends only sometimes and a person may change."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from kartu.loyalty.codes import new_reward_code

LINK_LIFETIME = timedelta(minutes=10)  # a code to link a second messenger: typed there soon, once


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


def new_link_code() -> str:
    """A one-time code (50 bits) a person gets on one messenger and types on the other to link
    them, as strong as a reward code: canonical form (`codes.normalize_code` reads it back as typed)."""
    return new_reward_code()


def link_code_hash(code: str) -> str:
    """What is stored of a link code: a hash (a database read does not give a usable code)."""
    return hashlib.sha256(code.encode()).hexdigest()
