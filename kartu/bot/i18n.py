"""gettext catalogs for aiogram, compiled from the `.po` sources in memory at start-up.

Shipping only `.po` files keeps one source of truth in the repository; compiling with
Babel on load (a few milliseconds) means no build step and no binary files to forget.
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from aiogram.utils.i18n import I18n
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"


def _compile(po_path: Path) -> gettext.GNUTranslations:
    with po_path.open("rb") as source:
        catalog = read_po(source)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


class KartuI18n(I18n):
    """aiogram's I18n reading `.po` catalogs directly."""

    @contextmanager
    def context(self) -> Iterator[I18n]:
        # aiogram's gettext looks up ``I18n.get_current()``; a subclass has its own context
        # variable, so register this instance under the base class.
        token = I18n.set_current(self)
        try:
            yield self
        finally:
            I18n.reset_current(token)

    def find_locales(self) -> dict[str, gettext.GNUTranslations]:
        translations: dict[str, gettext.GNUTranslations] = {}
        for locale_dir in sorted(self.path.iterdir()):
            po_path = locale_dir / "LC_MESSAGES" / f"{self.domain}.po"
            if po_path.exists():
                translations[locale_dir.name] = _compile(po_path)
        return translations

    def every_translation(self, message: str) -> frozenset[str]:
        """The message in every language: to recognise a menu button whatever its language."""
        return frozenset(self.gettext(message, locale=locale) for locale in self.available_locales)


@cache
def load_i18n(default_locale: str = "en") -> KartuI18n:
    return KartuI18n(path=LOCALES_DIR, default_locale=default_locale, domain=DOMAIN)
