"""Text for Telegram: HTML that is escaped by construction, and numbers and dates in the reader's locale."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from html import escape
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import I18n, ngettext
from babel.dates import format_date
from babel.numbers import format_decimal, format_percent


def N_(message: str) -> str:
    """Marks a message for the catalogs without translating it yet (gettext's ``N_``)."""
    return message


class HTML(str):
    """Text that is valid Telegram HTML. Only `html` and `join_html` make it, from a trusted
    template, so every reply's markup comes from the code and the catalogs, never from a person.
    It remembers how it was made (``made``: the template and its values, or the parts joined), so
    another messenger renders the same message with its own markup (channels/whatsapp/text.py)."""

    made: tuple[object, ...] | None = None


def i18n_locale() -> str:
    i18n = I18n.get_current(no_error=True)
    return i18n.current_locale if i18n is not None else "en"


def number_text(value: int) -> str:
    """``1234`` as the reader writes it: "1.234" in Indonesian, "1,234" in English."""
    return _number(value, i18n_locale())


@lru_cache(maxsize=4096)  # counts of stamps, rewards and people repeat; Babel parses its pattern each time
def _number(value: int, locale: str) -> str:
    return format_decimal(value, locale=locale)


def decimal_text(value: float) -> str:
    """One decimal: "4,5" in Indonesian, "4.5" in English."""
    return format_decimal(value, format="#,##0.0", locale=i18n_locale())


def multiplier_text(permille: int) -> str:
    """A multiplier kept in thousandths, as the reader writes it: "1,5" in Indonesian, "1.5" in
    English, "2" for a whole one (the one formatter for every decimal: Babel, by locale)."""
    return format_decimal(Decimal(permille) / 1000, format="#,##0.###", locale=i18n_locale())


def odds_text(odds: int) -> str:
    """Odds kept in hundredths of a percent, as the reader writes them: "2,5%" in Indonesian."""
    return format_decimal(Decimal(odds) / 100, format="#,##0.##", locale=i18n_locale()) + "%"


def percent_text(value: float | None) -> str:
    return "–" if value is None else format_percent(value, locale=i18n_locale())


def money_text(value: int) -> str:
    """Rupiah as on a receipt: "Rp 125.000" (Indonesian) or "Rp 125,000" (English)."""
    return "Rp " + format_decimal(value, locale=i18n_locale())


def stamps_text(count: int) -> HTML:
    return html(ngettext("{count} stamp", "{count} stamps", count), count=count)


def purchases_text(count: int) -> HTML:
    return html(ngettext("{count} purchase", "{count} purchases", count), count=count)


def _value(value: object) -> HTML | str:
    """A value as the reader reads it, before any messenger's escaping: markup already made, a
    number grouped in the reader's locale (it cannot carry markup), or the text as it is."""
    if isinstance(value, HTML):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return number_text(value)
    return "—" if value is None else str(value)


def _escaped(shown: HTML | str) -> HTML | str:
    return shown if isinstance(shown, HTML) else escape(shown)


def html(template: str, /, **values: object) -> HTML:
    """Fill a template (a translated message with its tags): each value is escaped unless it
    is `HTML` already, so a ``<`` in a name or a reward can never become markup."""
    shown = {key: _value(value) for key, value in values.items()}  # each value worked out once
    made = HTML(template.format(**{key: _escaped(value) for key, value in shown.items()}))
    made.made = ("template", template, shown)
    return made


def join_html(separator: str, parts: Iterable[object]) -> HTML:
    """Join message parts; parts that are not `HTML` are escaped."""
    shown = tuple(_value(part) for part in parts)
    made = HTML(separator.join(str(_escaped(part)) for part in shown))
    made.made = ("join", separator, shown)
    return made


def plain(template: str, /, **values: object) -> str:
    """Fill a template for plain text: button labels and pop-up alerts (Telegram parses no markup there)."""
    return template.format(
        **{
            key: number_text(value) if isinstance(value, int) and not isinstance(value, bool) else value
            for key, value in values.items()
        }
    )


def date_text(moment: datetime, timezone: str, locale: str) -> str:
    return format_date(moment.astimezone(ZoneInfo(timezone)), format="d MMM yyyy", locale=locale)


def day_text(day: date, locale: str) -> str:
    """A calendar day as ``date_text`` writes one ("5 Des 2026")."""
    return format_date(day, format="d MMM yyyy", locale=locale)


def time_text(moment: datetime, timezone: str) -> str:
    return moment.astimezone(ZoneInfo(timezone)).strftime("%H:%M")
