"""What a customer types on WhatsApp, where there is no command menu: a word in either language,
with or without a slash (``kartu``, ``/card``, ``HADIAH``), and ``GABUNG <shop code>`` to join
(what the shop's wa.me link and QR put in the chat for them)."""

from __future__ import annotations

import re
from dataclasses import dataclass

WORDS = {
    "card": ("card", "kartu"),
    "code": ("code", "kode"),
    "rewards": ("rewards", "reward", "hadiah"),
    "help": ("help", "bantuan", "menu", "start", "mulai", "hi", "halo", "hello"),
    "lang": ("lang", "language", "bahasa"),
    "mydata": ("mydata", "dataku"),
    "leave": ("leave", "keluar"),
    "forget": ("forget", "hapus", "lupakan"),
    "stop": ("stop", "berhenti"),
}
JOIN_WORDS = {"join": "en", "gabung": "id", "daftar": "id"}  # and the language it was written in
LINK_WORDS = ("link", "hubungkan")  # LINK <code from Telegram's /whatsapp>
_COMMAND = {word: command for command, words in WORDS.items() for word in words}
_SHOP_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
TEXT_MAX = 200  # longer is not a command (a customer's message to the shop is not read here)


@dataclass(frozen=True)
class Typed:
    command: str | None = None  # one of WORDS' keys
    join: str | None = None  # a shop's code to join
    language: str | None = None  # the language the join word was in
    link: str | None = None  # a code from Telegram to link this WhatsApp to


def read(text: str) -> Typed:
    words = text.strip()[:TEXT_MAX].split() if len(text) <= TEXT_MAX else []
    if not words:
        return Typed()
    first = words[0].lstrip("/").lower()
    if first in JOIN_WORDS and len(words) == 2 and _SHOP_CODE.match(words[1].lower()):
        return Typed(join=words[1].lower(), language=JOIN_WORDS[first])
    if first in JOIN_WORDS:
        return Typed(command="join?", language=JOIN_WORDS[first])
    if first in LINK_WORDS and len(words) >= 2:
        return Typed(link="".join(words[1:]))
    if len(words) == 1:
        return Typed(command=_COMMAND.get(first))
    return Typed()


def join_text(slug: str) -> str:
    """What the shop's wa.me link types for a customer."""
    return f"GABUNG {slug}"
