"""The owner's /apikeys screen: the shop's keys for points of sale, a new key shown once."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from kartu.presenters.callbacks import KeyAction, KeyStep
from kartu.presenters.format import HTML, date_text, html, join_html, plain
from kartu.services.api import KeyView


def keys_text(keys: list[KeyView], timezone: str, locale: str) -> tuple[HTML, InlineKeyboardMarkup]:
    lines = [html(_("<b>API keys</b> for your point of sale (docs: /docs on the API's address)"))]
    builder = InlineKeyboardBuilder()
    if not keys:
        lines.append(html(_("No keys yet.")))
    for key in keys:
        used = date_text(key.last_used_at, timezone, locale) if key.last_used_at else _("never")
        lines.append(
            html(
                _("• <code>{prefix}…</code> {name} — {scopes}, last used: {used}"),
                prefix=key.prefix,
                name=key.name,
                scopes=key.scopes,
                used=used,
            )
        )
        builder.button(
            text=plain(_("🗑 Revoke {prefix}…"), prefix=key.prefix),
            callback_data=KeyAction(action=KeyStep.REVOKE, key_id=key.key_id),
        )
    builder.button(text=_("➕ Key to credit purchases"), callback_data=KeyAction(action=KeyStep.CREATE_EARN))
    builder.button(text=_("➕ Key to credit and redeem"), callback_data=KeyAction(action=KeyStep.CREATE_ALL))
    builder.adjust(1)
    return join_html("\n", lines), builder.as_markup()


def new_key_text(key: str, scopes: str) -> HTML:
    return html(
        _(
            "Your new key ({scopes}). It is shown only this once: copy it into your point of sale now.\n<code>{key}</code>"
        ),
        scopes=scopes,
        key=key,
    )
