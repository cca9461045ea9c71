"""Kartu's Mini App pages, served under /webapp/ by the server that takes Telegram's webhook (and the
health server in polling mode): 📷 Scan for staff. Each page is the same file for everyone, with its
words in the reader's language put in a JSON block (escaped for a script: a value cannot end it)."""

from __future__ import annotations

import json
from importlib import resources

from aiogram.utils.i18n import gettext as _
from aiohttp import web

from kartu.bot.i18n import KartuI18n
from kartu.presenters.format import N_

SCAN_WORDS = {
    "title": N_("📷 Scan a customer's code"),
    "hint": N_("Point the camera at the QR code on the customer's phone (their /code), or at a reward code."),
    "scan": N_("Open the camera"),
    "point_at": N_("Point at the customer's QR code"),
    "not_kartu": N_("That is not a Kartu code. Ask the customer to open their code (/code)."),
    "amount_for": N_("How much did {code} spend?"),
    "send": N_("Continue"),
    "currency": N_("Rp"),
    "open_in_telegram": N_("Open this page with the 📷 Scan button in Kartu's chat."),
}


def _page(name: str, words: dict[str, object]) -> str:
    page = resources.files("kartu.bot").joinpath(f"static/{name}").read_text(encoding="utf-8")
    block = json.dumps(words, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")
    return page.replace("__WORDS__", block)


def add_miniapp_routes(app: web.Application, i18n: KartuI18n) -> None:
    async def scan(request: web.Request) -> web.Response:
        locale = "id" if request.query.get("lang") == "id" else "en"
        with i18n.context(), i18n.use_locale(locale):
            words: dict[str, object] = {key: _(text) for key, text in SCAN_WORDS.items()}
        words |= {
            "locale": "id-ID" if locale == "id" else "en-US",
            "points": request.query.get("points") == "1",
        }
        return web.Response(
            text=_page("scan.html", words),
            content_type="text/html",
            charset="utf-8",
            headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
        )

    app.router.add_get("/webapp/scan", scan)
