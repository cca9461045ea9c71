"""Messages are built only through `render.html`, which escapes every value: no handler fills a
template any other way, so a `<` typed by a person cannot become markup."""

from __future__ import annotations

import re
from pathlib import Path

import kartu.handlers

HANDLERS = Path(kartu.handlers.__file__).parent
UNSAFE = re.compile(r"\.format\(|\bf\"[^\"]*\{|\bf'[^']*\{|%\s*\(|\.replace\(\"<")


def test_no_handler_fills_a_template_by_hand() -> None:
    offenders = [
        f"{path.name}:{number}: {line.strip()}"
        for path in sorted(HANDLERS.glob("*.py")) if path.name != "render.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if UNSAFE.search(line) and "raise " not in line
    ]
    assert offenders == []
