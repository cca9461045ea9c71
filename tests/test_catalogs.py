"""Every user-visible string is in both catalogs, translated, with the same placeholders; every
message renders in both languages with plurals and numbers as a reader of that language expects."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from kartu.bot.i18n import LOCALES_DIR, load_i18n
from kartu.presenters.format import (
    decimal_text,
    html,
    money_text,
    multiplier_text,
    number_text,
    odds_text,
    percent_text,
)

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
TAGS = re.compile(r"</?[a-z]+>")
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}


def _source_messages() -> set[str]:
    found = extract_from_dir(str(ROOT / "kartu"), method_map=[("**.py", "python")], keywords=KEYWORDS)
    return {
        message if isinstance(message, str) else message[0]
        for _file, _line, message, _comments, _context in found
    }


def _catalog(language: str) -> list:  # type: ignore[type-arg]
    with (LOCALES_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as source:
        return [message for message in read_po(source) if message.id]


@pytest.mark.parametrize("language", ["id", "en"])
def test_catalog_is_complete(language: str) -> None:
    catalog = _catalog(language)
    ids = {message.id if isinstance(message.id, str) else message.id[0] for message in catalog}
    missing = _source_messages() - ids
    assert not missing, f"not in the {language} catalog: {sorted(missing)}"
    for message in catalog:
        forms = (message.string,) if isinstance(message.id, str) else tuple(message.string)
        sources = (message.id,) if isinstance(message.id, str) else tuple(message.id)
        allowed = set(PLACEHOLDER.findall(" ".join(sources)))
        for text in forms:
            assert text, f"untranslated in {language}: {message.id!r}"
            # A plural form may leave out the number ("Your reward code comes next.").
            assert set(PLACEHOLDER.findall(text)) <= allowed, message.id
            assert set(PLACEHOLDER.findall(text)) >= set(PLACEHOLDER.findall(sources[-1])) - {"{count}"}, (
                message.id
            )
            assert sorted(TAGS.findall(text)) == sorted(TAGS.findall(sources[0])), message.id


def test_indonesian_is_really_indonesian() -> None:
    i18n = load_i18n()
    assert i18n.gettext("🎟 My card", locale="id") == "🎟 Kartu saya"
    assert i18n.every_translation("❓ Help") == {"❓ Help", "❓ Bantuan"}


SAMPLES = {
    "shop": "Kopi Senja",
    "first_name": "Ayu",
    "name": "Budi",
    "customer": "Ayu",
    "reward": "Es kopi susu",
    "code": "K7Q2-9XHM",
    "date": "24 Nov 2026",
    "time": "09:30",
    "link": "https://t.me/kartu_bot?start=m_kopi-senja",
    "label": "Hadiah",
    "value": "10",
    "progress": "7/10",
    "amount": " (Rp 25.000)",
    "segment": "Semua",
    "counts": "1",
    "history": "-",
    "comment": "enak",
    "reasons": "-",
    "rate": "67%",
    "average": "4,5",
    "what": "-",
    "seen": "-",
    "stamps": 7,
    "purchases": 2,
    "days": "7",
    "owner_link": "-",
    "join_link": "-",
    "id": "4242",
    "bot": "kartu_bot",
    "role": "pelanggan",
    "language": "id",
    "mark": "",
    "handle": "",
    "visit": "-",
    "lock": "",
    "minutes": 5,
    "hours": 24,
    "high": 50,
    "low": 2,
}


def _fill(template: str, count: int) -> str:
    values = {name: SAMPLES.get(name, count) for _, name, _, _ in string.Formatter().parse(template) if name}
    return str(html(template, **values))


# Words that betray an untranslated message; shop names, commands and "Telegram" are allowed.
ENGLISH = re.compile(
    r"\b(the|you|your|and|with|please|send|tap|stamps?|rewards?|shop|customers?|staff|owner)\b", re.I
)


@pytest.mark.parametrize("count", [1, 2, 1234])
def test_every_message_renders_in_both_languages(count: int) -> None:
    """Each catalogue message, filled with sample values, is valid for Telegram, has a plural
    that agrees with the count, and carries no English words in Indonesian (commands aside)."""
    i18n = load_i18n()
    for message in _catalog("en"):
        singular, plural = (message.id, None) if isinstance(message.id, str) else message.id
        for language in ("en", "id"):
            with i18n.context(), i18n.use_locale(language):
                text = _fill(
                    i18n.gettext(singular, plural, count) if plural else i18n.gettext(singular), count
                )
            if language == "en" and plural is not None:
                assert (i18n.gettext(singular, plural, count, locale="en") == singular) == (count == 1), (
                    singular
                )
            if language == "id":
                words = re.sub(r"/[a-z_]+|`[^`]*`|<[^>]+>|\{[a-z_]+\}|https?://\S+|@\w+", " ", text)
                if singular not in {
                    "Language: Bahasa Indonesia / English",
                    "<b>Your loyalty card in Telegram</b>",
                }:
                    assert not ENGLISH.search(words.replace("English", "")), (singular, text)


def test_numbers_follow_the_readers_locale() -> None:
    i18n = load_i18n()
    with i18n.context(), i18n.use_locale("id"):
        assert (number_text(1234), decimal_text(7.1), money_text(125000), percent_text(0.667)) == (
            "1.234",
            "7,1",
            "Rp 125.000",
            "67%",
        )
        assert html("{count}", count=12500) == "12.500"
        assert (multiplier_text(1500), multiplier_text(2000), multiplier_text(1250)) == ("1,5", "2", "1,25")
        assert [odds_text(odds) for odds in (2500, 250, 5)] == ["25%", "2,5%", "0,05%"]
    with i18n.context(), i18n.use_locale("en"):
        assert (number_text(1234), decimal_text(7.1), money_text(125000), percent_text(0.667)) == (
            "1,234",
            "7.1",
            "Rp 125,000",
            "67%",
        )
        assert (multiplier_text(1500), multiplier_text(2000), multiplier_text(1250)) == ("1.5", "2", "1.25")
        assert [odds_text(odds) for odds in (2500, 250, 5)] == ["25%", "2.5%", "0.05%"]


def test_plurals_in_both_languages() -> None:
    i18n = load_i18n()
    assert [
        i18n.gettext("{count} stamp", "{count} stamps", n, locale="en").format(count=n) for n in (1, 2)
    ] == ["1 stamp", "2 stamps"]
    assert [
        i18n.gettext("{count} stamp", "{count} stamps", n, locale="id").format(count=n) for n in (1, 2)
    ] == ["1 stempel", "2 stempel"]
