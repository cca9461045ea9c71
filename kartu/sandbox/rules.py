"""What Telegram refuses, so the emulator refuses it too: a lenient emulator hides bugs.

The HTML rules follow Telegram's parser (tdlib's ``parse_html``): only the supported tags,
properly nested and closed; ``<`` always starts a tag; ``&`` starts an entity only when it is
one of ``&lt; &gt; &amp; &quot;`` or a numeric one (anything else stays text). Lengths are
counted after parsing, in UTF-16 code units, as Telegram counts them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

MESSAGE_MAX = 4096
CAPTION_MAX = 1024
CALLBACK_DATA_MAX_BYTES = 64
SUPPORTED_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "code",
        "pre",
        "blockquote",
        "tg-emoji",
    }
)
_ENTITY = re.compile(r"&(lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_START_TAG = re.compile(
    r"([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'>]+))?)*)\s*/?$"
)
_ATTRIBUTE = re.compile(r"([a-zA-Z-]+)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s\"'>]+))?")


class TelegramRefusal(Exception):
    """A 400 Bad Request (or another error code), with Telegram's description."""

    def __init__(self, description: str, error_code: int = 400) -> None:
        super().__init__(description)
        self.error_code = error_code
        prefix = {400: "Bad Request", 403: "Forbidden", 409: "Conflict"}.get(error_code, "Error")
        self.description = description if error_code == 413 else f"{prefix}: {description}"


@dataclass(frozen=True)
class Entity:
    type: str
    offset: int  # UTF-16 code units, as Telegram counts
    length: int
    url: str | None = None


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


_TAG_ENTITY = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}


def parse_html(text: str) -> tuple[str, list[Entity]]:
    """Telegram's HTML parse mode: the plain text and its entities, or `TelegramRefusal`."""
    plain: list[str] = []
    position = 0  # in UTF-16 units
    stack: list[tuple[str, int, str | None]] = []
    entities: list[Entity] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "<":
            end = text.find(">", index)
            if end == -1:
                raise TelegramRefusal(f"can't parse entities: Unclosed start tag at byte offset {index}")
            inner = text[index + 1 : end]
            if inner.startswith("/"):
                name = inner[1:].strip().lower()
                if not stack:
                    raise TelegramRefusal(f"can't parse entities: Unexpected end tag at byte offset {index}")
                open_name, start, url = stack.pop()
                if name != open_name:
                    raise TelegramRefusal(
                        f'can\'t parse entities: Unmatched end tag at byte offset {index}, expected "</{open_name}>", found "</{name}>"'
                    )
                if position > start:
                    entities.append(Entity(_TAG_ENTITY[open_name], start, position - start, url))
            else:
                match = _START_TAG.match(inner)
                name = match.group(1).lower() if match else ""
                if not match or name not in SUPPORTED_TAGS:
                    shown = inner.split()[0] if inner.split() else inner
                    raise TelegramRefusal(
                        f'can\'t parse entities: Unsupported start tag "{shown}" at byte offset {index}'
                    )
                attributes = {
                    key.lower(): (value or "").strip("\"'")
                    for key, value in _ATTRIBUTE.findall(match.group(2) or "")
                }
                if name == "span" and attributes.get("class") != "tg-spoiler":
                    raise TelegramRefusal(
                        f'can\'t parse entities: Tag "span" must have class "tg-spoiler" at byte offset {index}'
                    )
                stack.append((name, position, attributes.get("href") if name == "a" else None))
            index = end + 1
            continue
        if char == "&":
            entity = _ENTITY.match(text, index)
            if entity is not None:
                value = entity.group(1)
                if value.startswith("#x"):
                    decoded = chr(int(value[2:], 16))
                elif value.startswith("#"):
                    decoded = chr(int(value[1:]))
                else:
                    decoded = _NAMED[value]
                plain.append(decoded)
                position += utf16_length(decoded)
                index = entity.end()
                continue
        plain.append(char)
        position += utf16_length(char)
        index += 1
    if stack:
        raise TelegramRefusal(
            f"can't parse entities: Can't find end tag corresponding to start tag \"{stack[-1][0]}\""
        )
    return "".join(plain), sorted(entities, key=lambda entity: (entity.offset, -entity.length))


def checked_text(text: str | None, parse_mode: str | None, *, caption: bool) -> tuple[str, list[Entity]]:
    """The text as Telegram would show it, after the checks it makes on sendMessage/sendPhoto/edits."""
    raw = text or ""
    if parse_mode not in (None, "", "HTML", "html", "Markdown", "MarkdownV2"):
        raise TelegramRefusal("unsupported parse_mode")
    plain, entities = parse_html(raw) if (parse_mode or "").upper() == "HTML" else (raw, [])
    if caption:
        if utf16_length(plain) > CAPTION_MAX:
            raise TelegramRefusal("message caption is too long")
        return plain, entities
    if not plain.strip():
        raise TelegramRefusal("message text is empty")
    if utf16_length(plain) > MESSAGE_MAX:
        raise TelegramRefusal("message is too long")
    return plain, entities


INLINE_ACTIONS = frozenset(
    {
        "url",
        "callback_data",
        "web_app",
        "login_url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "copy_text",
        "callback_game",
        "pay",
    }
)
ANSWER_TEXT_MAX = 200
COMMANDS_MAX = 100
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")


def check_markup(markup: dict[str, Any] | None, *, edit: bool = False) -> None:
    """Buttons need a label and exactly one action; callback data is 1-64 bytes; an edit may
    carry an inline keyboard only."""
    if not markup:
        return
    if not isinstance(markup, dict):
        raise TelegramRefusal("can't parse reply keyboard markup JSON object")
    if edit and "inline_keyboard" not in markup:
        raise TelegramRefusal("inline keyboard expected")
    for row in markup.get("inline_keyboard") or []:
        for button in row:
            if not str(button.get("text") or "").strip():
                raise TelegramRefusal("BUTTON_TEXT_EMPTY")
            actions = INLINE_ACTIONS.intersection(button)
            if not actions:
                raise TelegramRefusal(
                    "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
                )
            if len(actions) > 1:
                raise TelegramRefusal(
                    "can't parse inline keyboard button: exactly one of the optional fields must be used"
                )
            if "callback_data" in button:
                size = len(str(button["callback_data"]).encode("utf-8"))
                if not 1 <= size <= CALLBACK_DATA_MAX_BYTES:
                    raise TelegramRefusal("BUTTON_DATA_INVALID")
            _check_web_app(button)
    for row in markup.get("keyboard") or []:
        for button in row:
            label = button.get("text") if isinstance(button, dict) else button
            if not str(label or "").strip():
                raise TelegramRefusal("BUTTON_TEXT_EMPTY")
            if isinstance(button, dict):
                _check_web_app(button)


def _check_web_app(button: dict[str, Any]) -> None:
    """A Mini App button opens an https page, nothing else (Telegram's rule)."""
    if "web_app" not in button:
        return
    url = str((button.get("web_app") or {}).get("url") or "")
    if not url.startswith("https://") or len(url) <= len("https://"):
        raise TelegramRefusal("BUTTON_URL_INVALID")


def check_commands(commands: Any) -> None:
    """setMyCommands: at most 100; each command 1-32 of a-z, 0-9, _; a description of 1-256 characters."""
    if not isinstance(commands, list):
        raise TelegramRefusal("can't parse commands JSON object")
    if len(commands) > COMMANDS_MAX:
        raise TelegramRefusal("BOT_COMMANDS_TOO_MUCH")
    for command in commands:
        if not isinstance(command, dict) or not _COMMAND.fullmatch(str(command.get("command", ""))):
            raise TelegramRefusal("BOT_COMMAND_INVALID")
        if not 1 <= len(str(command.get("description") or "").strip()) <= 256:
            raise TelegramRefusal("BOT_COMMAND_DESCRIPTION_INVALID")


# The emoji a bot may react with (Bot API ReactionTypeEmoji); anything else is REACTION_INVALID.
REACTION_EMOJI = frozenset(
    "👍 👎 ❤ 🔥 🥰 👏 😁 🤔 🤯 😱 🤬 😢 🎉 🤩 🤮 💩 🙏 👌 🕊 🤡 🥱 🥴 😍 🐳 ❤‍🔥 🌚 🌭 💯 🤣 ⚡ 🍌 🏆 💔 🤨 😐 🍓 🍾 💋 🖕 😈 "
    "😴 😭 🤓 👻 👨‍💻 👀 🎃 🙈 😇 😨 🤝 ✍ 🤗 🫡 🎅 🎄 ☃ 💅 🤪 🗿 🆒 💘 🙉 🦄 😘 💊 🙊 😎 👾 🤷‍♂ 🤷 🤷‍♀ 😡".split()
)


def check_reaction(reaction: Any) -> None:
    """setMessageReaction: a bot sets at most one reaction, from the allowed emoji."""
    if not isinstance(reaction, list) or len(reaction) > 1:
        raise TelegramRefusal("REACTIONS_TOO_MANY")
    for item in reaction:
        if (
            not isinstance(item, dict)
            or item.get("type") != "emoji"
            or item.get("emoji") not in REACTION_EMOJI
        ):
            raise TelegramRefusal("REACTION_INVALID")


def check_answer_text(text: str | None) -> None:
    if text is not None and utf16_length(text) > ANSWER_TEXT_MAX:
        raise TelegramRefusal("MESSAGE_TOO_LONG")
