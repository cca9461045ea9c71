"""Every user-visible string is in both catalogs, translated, with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from kartu.bot.i18n import LOCALES_DIR, load_i18n

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
TAGS = re.compile(r"</?[a-z]+>")


def _source_messages() -> set[str]:
    found = extract_from_dir(str(ROOT / "kartu"), method_map=[("**.py", "python")], keywords={"_": None, "N_": None})
    return {message for _file, _line, message, _comments, _context in found if isinstance(message, str)}


@pytest.mark.parametrize("language", ["id", "en"])
def test_catalog_is_complete(language: str) -> None:
    with (LOCALES_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as source:
        catalog = {m.id: m.string for m in read_po(source) if m.id}
    missing = _source_messages() - set(catalog)
    assert not missing, f"not in the {language} catalog: {sorted(missing)}"
    for msgid, text in catalog.items():
        assert text, f"untranslated in {language}: {msgid!r}"
        assert sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(msgid)), msgid
        assert sorted(TAGS.findall(text)) == sorted(TAGS.findall(msgid)), msgid


def test_indonesian_is_really_indonesian() -> None:
    i18n = load_i18n()
    assert i18n.gettext("🎟 My card", locale="id") == "🎟 Kartu saya"
    assert i18n.every_translation("❓ Help") == {"❓ Help", "❓ Bantuan"}
