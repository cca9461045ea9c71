"""Messages are built only through `presenters.format.html`, which escapes every value: no
handler or presenter fills a template any other way, so a `<` typed by a person cannot become markup."""

from __future__ import annotations

import re
from pathlib import Path

import kartu.channels.whatsapp
import kartu.handlers
import kartu.presenters

SOURCES = [Path(kartu.handlers.__file__).parent, Path(kartu.presenters.__file__).parent]
HANDLERS_ELSEWHERE = [Path(kartu.channels.whatsapp.__file__).parent / "conversation.py"]  # WhatsApp's
UNSAFE = re.compile(r"\.format\(|\bf\"[^\"]*\{|\bf'[^']*\{|%\s*\(|\.replace\(\"<")


def test_no_handler_or_presenter_fills_a_template_by_hand() -> None:
    offenders = [
        f"{path.name}:{number}: {line.strip()}"
        for path in [
            *(path for folder in SOURCES for path in sorted(folder.glob("*.py"))),
            *HANDLERS_ELSEWHERE,
        ]
        if path.name != "format.py"  # html() and plain() themselves
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if UNSAFE.search(line) and "raise " not in line
    ]
    assert offenders == []
