"""Kartu's Mini App pages, served under /webapp/ by the server that takes Telegram's webhook (and the
health server in polling mode): 📷 Scan for staff, and the customer's card. Each page is the same file
for everyone, with its words in the reader's language put in a JSON block (escaped for a script: a
value cannot end it). What a page asks the server (``/webapp/api/card``) carries the launch data
Telegram signed (``X-Telegram-Init-Data``): forged, altered or over an hour old, it gets 401, and
it only ever reads the card of the person it names."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from importlib import resources

from aiogram.utils.i18n import gettext as _
from aiohttp import web

from kartu.bot.i18n import KartuI18n
from kartu.bot.miniapp import InitDataRefused, verified
from kartu.config import Settings
from kartu.handlers.points import rewards_screen
from kartu.loyalty.codes import format_code
from kartu.loyalty.errors import NotMember
from kartu.media.qr import render_qr_svg
from kartu.presenters.customer import card_caption
from kartu.presenters.format import N_
from kartu.services.container import Services

log = logging.getLogger(__name__)

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


def _page(name: str, words: Mapping[str, object]) -> web.Response:
    """A page with the head every Mini App page shares (Telegram's script, or the sandbox's bridge)."""
    static = resources.files("kartu.bot").joinpath("static")
    head = static.joinpath("head.html").read_text(encoding="utf-8")
    page = static.joinpath(name).read_text(encoding="utf-8").replace("__HEAD__", head, 1)
    block = json.dumps(words, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")
    return web.Response(
        text=page.replace("__WORDS__", block),
        content_type="text/html",
        charset="utf-8",
        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
    )


CARD_WORDS = {
    "title": N_("My card"),
    "show": N_("Show this code at the counter"),
    "rewards": N_("Rewards"),
    "refused": N_(
        "This page works only when opened from the 📱 Open my card button in the chat. Please open it again."
    ),
    "not_member": N_("You have not joined a shop yet. Open your shop's link or scan its QR code to join."),
}


async def _card(
    request: web.Request, services: Services, settings: Settings, i18n: KartuI18n
) -> web.Response:
    """The card of the person the launch data names, as the page draws it (HTML made by html(), so
    every value in it is escaped)."""
    try:
        caller = verified(
            request.headers.get("X-Telegram-Init-Data", ""),
            settings.bot_token,
            services.customers.clock.now(),
        )
    except InitDataRefused as refused:
        log.warning("card page: refused launch data (%s)", refused.reason)
        services.health.metrics.miniapp.labels("refused").inc()
        return web.json_response({"error": refused.reason}, status=401)
    services.health.metrics.miniapp.labels("card read").inc()
    language = await services.customers.chosen_language(caller.telegram_id, caller.language_code)
    with i18n.context(), i18n.use_locale(language):
        try:
            card = await services.customers.card(caller.telegram_id)
            listed = (await rewards_screen(caller.telegram_id, services, language)).text
        except NotMember:
            return web.json_response({"error": "not member"}, status=404)
        caption = card_caption(card, language)
    qr = await asyncio.to_thread(render_qr_svg, format_code(card.personal_code))
    return web.json_response(
        {
            "shop": card.merchant_name,
            "stamps": card.stamps if card.runs_stamps else None,
            "required": card.stamps_required,
            "points": card.points,
            "caption": str(caption),
            "rewards": str(listed),
            "code": format_code(card.personal_code),
            "qr": qr,
        },
        headers={"Cache-Control": "no-store"},
    )


def add_miniapp_routes(app: web.Application, services: Services, settings: Settings, i18n: KartuI18n) -> None:
    async def scan(request: web.Request) -> web.Response:
        locale = "id" if request.query.get("lang") == "id" else "en"
        with i18n.context(), i18n.use_locale(locale):
            words: dict[str, object] = {key: _(text) for key, text in SCAN_WORDS.items()}
        words |= {
            "locale": "id-ID" if locale == "id" else "en-US",
            "points": request.query.get("points") == "1",
        }
        services.health.metrics.miniapp.labels("scan page").inc()
        return _page("scan.html", words)

    async def card_page(request: web.Request) -> web.Response:
        locale = "id" if request.query.get("lang") == "id" else "en"
        with i18n.context(), i18n.use_locale(locale):
            words = {key: _(text) for key, text in CARD_WORDS.items()}
        services.health.metrics.miniapp.labels("card page").inc()
        return _page("card.html", words)

    async def card(request: web.Request) -> web.Response:
        return await _card(request, services, settings, i18n)

    app.router.add_get("/webapp/scan", scan)
    app.router.add_get("/webapp/card", card_page)
    app.router.add_post("/webapp/api/card", card)
