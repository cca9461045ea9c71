"""The owner's /apikeys screen: the shop's keys for points of sale, a new key shown once."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from kartu.presenters.callbacks import KeyAction, KeyStep
from kartu.presenters.format import HTML, date_text, html, join_html, plain
from kartu.services.api import KeyList


def keys_text(listing: KeyList, locale: str) -> tuple[HTML, InlineKeyboardMarkup]:
    lines = [html(_("<b>API keys</b> for your point of sale (docs: /docs on the API's address)"))]
    builder = InlineKeyboardBuilder()
    if not listing.keys:
        lines.append(html(_("No keys yet.")))
    for key in listing.keys:
        used = date_text(key.last_used_at, listing.timezone, locale) if key.last_used_at else _("never")
        line = html(
            _("• <code>{prefix}…</code> {name} — {scopes}, last used: {used}"),
            prefix=key.prefix,
            name=key.name,
            scopes=key.scopes,
            used=used,
        )
        if key.outlet:
            line = join_html(" ", [line, html(_("(📍 {outlet})"), outlet=key.outlet)])
        lines.append(line)
        builder.button(
            text=plain(_("🗑 Revoke {prefix}…"), prefix=key.prefix),
            callback_data=KeyAction(action=KeyStep.REVOKE, key_id=key.key_id),
        )
    builder.button(text=_("➕ Key to credit purchases"), callback_data=KeyAction(action=KeyStep.CREATE_EARN))
    builder.button(text=_("➕ Key to credit and redeem"), callback_data=KeyAction(action=KeyStep.CREATE_ALL))
    builder.adjust(1)
    return join_html("\n", lines), builder.as_markup()


def key_outlet_question(
    action: KeyStep, outlets: tuple[tuple[int, str], ...]
) -> tuple[HTML, InlineKeyboardMarkup]:
    """A new key in a business with several outlets: the whole business's till, or one outlet's
    (its sales are counted there)."""
    builder = InlineKeyboardBuilder()
    builder.button(text=_("🏢 The whole business"), callback_data=KeyAction(action=action, where="all"))
    for outlet_id, name in outlets:
        builder.button(
            text=plain("📍 {outlet}", outlet=name),
            callback_data=KeyAction(action=action, where=str(outlet_id)),
        )
    builder.adjust(1)
    return html(
        _("Which till is the key for? An outlet's key counts its sales at that outlet.")
    ), builder.as_markup()


def new_key_text(key: str, scopes: str) -> HTML:
    return html(
        _(
            "Your new key ({scopes}). It is shown only this once: copy it into your point of sale now.\n<code>{key}</code>"
        ),
        scopes=scopes,
        key=key,
    )
