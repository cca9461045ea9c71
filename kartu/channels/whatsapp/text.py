"""Kartu's messages in WhatsApp's markup. Presenters make Telegram HTML with `html()` and
`join_html()`, which remember the trusted template and the values they were filled with; here the
template's tags become WhatsApp's marks (``*bold*``, ``_italic_``, ``~struck~``, monospace, a link
as its text and address) and each value is rendered again, not escaped for HTML.

WhatsApp has no escape: a person's ``*`` or ``_`` (a name like ``*Ayu*``) would turn the rest of
the message bold. So in what people wrote, and in anything not made by `html()`, WhatsApp's
marking characters (and ``<``, ``>``) become look-alikes it does not parse; web addresses are left
whole, since WhatsApp does not format inside them and a changed one would not open."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from kartu.presenters.format import HTML

INERT = str.maketrans({"*": "∗", "_": "＿", "~": "∼", "`": "ˋ", "<": "‹", ">": "›"})
MARKS = {
    "b": "*",
    "strong": "*",
    "i": "_",
    "em": "_",
    "s": "~",
    "strike": "~",
    "del": "~",
    "code": "```",
    "pre": "```",
}
ADDRESS = re.compile(r"https?://\S+")
TOKEN = re.compile("\ue000([0-9]+)\ue001")
EMPTY_MARKS = re.compile(r"\*\*|__|~~|``````")


def whatsapp_text(text: str) -> str:
    """The message as WhatsApp shows it, from what a presenter made."""
    made = getattr(text, "made", None)
    if made is None:
        return _markup(str(text), from_people=True) if isinstance(text, HTML) else inert(str(text))
    if made[0] == "join":
        _, separator, parts = made
        return str(separator).join(
            whatsapp_text(part) if isinstance(part, HTML) else inert(str(part)) for part in parts
        )
    _, template, values = made
    keys = list(values)
    shaped = _markup(
        str(template).format(**{key: f"\ue000{number}\ue001" for number, key in enumerate(keys)}),
        from_people=False,
    )

    def value(match: re.Match[str]) -> str:
        filled = values[keys[int(match[1])]]
        return whatsapp_text(filled) if isinstance(filled, HTML) else inert(str(filled))

    return EMPTY_MARKS.sub("", TOKEN.sub(value, shaped))  # a value that came out empty leaves no marks


def inert(text: str) -> str:
    """A person's text with WhatsApp's marks made look-alikes, its web addresses left whole."""
    pieces, start = [], 0
    for address in ADDRESS.finditer(text):
        pieces += [text[start : address.start()].translate(INERT), address[0]]
        start = address.end()
    return "".join([*pieces, text[start:].translate(INERT)])


def _markup(source: str, *, from_people: bool) -> str:
    parser = _Marks(from_people)
    parser.feed(source)
    parser.close()
    return "".join(parser.spans[0])


class _Marks(HTMLParser):
    """Telegram's tags to WhatsApp's marks. A mark hugs its text (WhatsApp ignores ``* bold *``):
    spaces inside a tag move outside it; an empty one is dropped."""

    def __init__(self, from_people: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.from_people = from_people
        self.spans: list[list[str]] = [[]]
        self.open: list[tuple[str, str]] = []  # (tag, its mark or the link's address)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in MARKS or tag == "a":
            self.open.append((tag, MARKS.get(tag) or dict(attrs).get("href") or ""))
            self.spans.append([])

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1][0] != tag:
            return
        _, mark = self.open.pop()
        inner = "".join(self.spans.pop())
        if tag == "a":
            shown = inner if not mark or mark == inner.strip() else f"{inner} ({mark})"
            self.spans[-1].append(shown)
            return
        core = inner.strip()
        if not core:
            self.spans[-1].append(inner)
            return
        lead, trail = inner[: len(inner) - len(inner.lstrip())], inner[len(inner.rstrip()) :]
        self.spans[-1].append(f"{lead}{mark}{core}{mark}{trail}")

    def handle_data(self, data: str) -> None:
        self.spans[-1].append(inert(data) if self.from_people else data)

    def close(self) -> None:
        super().close()
        while self.open:  # a tag left open (never from html()): its text stays, unmarked
            self.open.pop()
            inner = "".join(self.spans.pop())
            self.spans[-1].append(inner)
