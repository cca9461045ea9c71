"""Each role's screens: reply keyboard, /help text and "/" commands (sent by handlers/menus.py)."""

from __future__ import annotations

from functools import lru_cache

from aiogram.types import BotCommand, KeyboardButton, ReplyKeyboardMarkup, WebAppInfo
from aiogram.utils.i18n import gettext as _

from kartu.loyalty.kinds import Kinds
from kartu.presenters.format import HTML, N_, html, i18n_locale, join_html, plain
from kartu.services.views import Audience, MenuView

MENU_CARD = N_("🎟 My card")


MENU_CODE = N_("🔑 My code")


MENU_REWARDS = N_("🎁 Rewards")


MENU_HELP = N_("❓ Help")


MENU_SCAN = N_("📷 Scan")  # staff and owners: a Mini App that reads the customer's QR


MENU_CLAIM = N_("🧾 I bought something")  # a shop running stamps and points
MENU_CLAIM_STAMP = N_("🧾 Ask for my stamp")
MENU_CLAIM_POINTS = N_("🧾 Ask for my points")
CLAIM_BUTTONS = (MENU_CLAIM, MENU_CLAIM_STAMP, MENU_CLAIM_POINTS)


def claim_button(kinds: Kinds) -> str:
    """The claim button says what the shop gives for a purchase."""
    if kinds.stamps and kinds.points:
        return MENU_CLAIM
    return MENU_CLAIM_POINTS if kinds.points else MENU_CLAIM_STAMP


MENU_DUTY = N_("🛎 On duty / off")


MENU_SHOP = N_("🏪 My shop")


MENU_LINK = N_("🔗 Join link & QR")


MENU_TEAM = N_("👥 Team")


MENU_PROGRAM = N_("⚙️ Program")


MENU_STATS = N_("📊 Stats")


MENU_BROADCAST = N_("📣 Broadcast")


MENU_AS_CUSTOMER = N_("🎟 My cards (customer)")


MENU_AS_STAFF = N_("🧑‍🍳 Staff menu")


CUSTOMER_COMMANDS = {
    "card": N_("Your card: stamps or points"),
    "code": N_("Your personal code and QR"),
    "rewards": N_("Rewards you can use"),
    "claim": N_("Tell staff you just bought something"),
    "invite": N_("Your link to invite friends"),
    "birthday": N_("Tell the shop your birthday"),
    "cause": N_("The cause your shop gives to"),
    "spin": N_("Spin the wheel: odds and your spins"),
    "member": N_("The shop's paid membership"),
    "paysupport": N_("Help with a payment"),
    "help": N_("How Kartu works"),
    "lang": N_("Language: Bahasa Indonesia / English"),
    "mydata": N_("What Kartu keeps about you"),
}


STAFF_COMMANDS = {
    "stamp": N_("Stamp a purchase: /stamp CODE [purchases]"),
    "redeem": N_("Hand out a reward: /redeem CODE"),
    "buy": N_("Points for an amount: /buy CODE 125000"),
    "duty": N_("Receive customers' purchase claims (on/off)"),
    "shop": N_("Which shop you act for"),
    "help": N_("How Kartu works"),
    "lang": N_("Language: Bahasa Indonesia / English"),
}


MANAGER_COMMANDS = {
    **{name: text for name, text in STAFF_COMMANDS.items() if name not in ("help", "lang")},
    "staff": N_("Your outlet's team: invite or remove staff"),
    "stats": N_("Your outlet's numbers"),
    "feedback": N_("Your outlet's ratings and comments"),
    "help": N_("How Kartu works"),
    "lang": N_("Language: Bahasa Indonesia / English"),
}


OWNER_COMMANDS = {
    "link": N_("Your customers' join link, QR and poster"),
    "program": N_("Stamps needed, reward, limits and expiry"),
    "staff": N_("Invite or remove your team"),
    "stats": N_("Numbers and a chart"),
    "broadcast": N_("Message your customers"),
    "feedback": N_("Ratings and comments"),
    "export": N_("CSV files of members and purchases"),
    "catalogue": N_("Rewards customers get with points"),
    "adjust": N_("Change points by hand: /adjust CODE +50 reason"),
    "tiers": N_("Levels like Silver and Gold, and their private groups"),
    "causes": N_("A cause your shop and customers give to"),
    "wheel": N_("Prizes of the wheel, their odds and budgets"),
    "partners": N_("Vouchers with partner shops"),
    "membership": N_("A paid membership in Telegram Stars"),
    "merge": N_("Make another shop you own part of this business"),
    "apikeys": N_("Keys for your point of sale (HTTP API)"),
    "webhooks": N_("Send events to your own systems"),
    "stamp": N_("Stamp a purchase: /stamp CODE [purchases]"),
    "redeem": N_("Hand out a reward: /redeem CODE"),
    "buy": N_("Points for an amount: /buy CODE 125000"),
    "shop": N_("Which shop you act for"),
    "help": N_("How Kartu works"),
    "lang": N_("Language: Bahasa Indonesia / English"),
}


# Indonesian readers see the Indonesian name of a command (both names work for everyone).
INDONESIAN_ALIASES = {
    "invite": "ajak",
    "birthday": "ultah",
    "cause": "donasi",
    "spin": "putar",
    "partners": "mitra",
    "buy": "beli",
    "catalogue": "katalog",
    "lang": "bahasa",
    "merge": "gabungkan",
}


def command_name(command: str, locale: str) -> str:
    """``/birthday`` for an English reader, ``/ultah`` for an Indonesian one."""
    return INDONESIAN_ALIASES.get(command, command) if locale == "id" else command


def _row(*labels: str) -> list[KeyboardButton]:
    return [KeyboardButton(text=_(label)) for label in labels]


PAGES: dict[str, str] = {}  # the Mini App pages' https addresses (bot/app.py, from KARTU_PUBLIC_URL)


def set_public_url(public_url: str) -> None:
    """Where Telegram opens Kartu's Mini App pages; empty: no Mini App buttons."""
    PAGES.clear()
    if public_url:
        PAGES["scan"] = public_url.rstrip("/") + "/webapp/scan"
        PAGES["card"] = public_url.rstrip("/") + "/webapp/card"
    _keyboard.cache_clear()


def keyboard_for(menu: MenuView) -> ReplyKeyboardMarkup:
    """The reply keyboard of the role a person acts in (in the current locale)."""
    return _keyboard(menu, i18n_locale(), PAGES.get("scan"))


def _scan_row(locale: str, scan: str | None, kinds: Kinds) -> list[list[KeyboardButton]]:
    """📷 Scan at the counter: the page opens the camera (and, where points run, a keypad)."""
    if not scan:
        return []
    page = plain("{page}?lang={locale}&points={points}", page=scan, locale=locale, points=int(kinds.points))
    return [[KeyboardButton(text=_(MENU_SCAN), web_app=WebAppInfo(url=page))]]


@lru_cache(maxsize=64)  # a handful of menus in two languages, sent with every help and menu switch
def _keyboard(menu: MenuView, locale: str, scan: str | None) -> ReplyKeyboardMarkup:
    if menu.audience == Audience.OWNER:
        rows = [
            *_scan_row(locale, scan, menu.kinds),
            _row(MENU_LINK, MENU_TEAM),
            _row(MENU_PROGRAM, MENU_STATS),
            _row(MENU_BROADCAST, MENU_HELP),
        ]
    elif menu.audience == Audience.MANAGER:
        rows = [
            *_scan_row(locale, scan, menu.kinds),
            _row(MENU_DUTY, MENU_SHOP),
            _row(MENU_TEAM, MENU_STATS),
            _row(MENU_HELP),
        ]
    elif menu.audience == Audience.STAFF:
        rows = [*_scan_row(locale, scan, menu.kinds), _row(MENU_DUTY, MENU_SHOP), _row(MENU_HELP)]
    else:
        rows = [_row(MENU_CARD, MENU_CODE), _row(MENU_REWARDS, MENU_HELP), _row(claim_button(menu.kinds))]
        if menu.works_somewhere:
            rows.append(_row(MENU_AS_STAFF))
    if menu.audience != Audience.CUSTOMER and menu.has_card:
        rows.append(_row(MENU_AS_CUSTOMER))
    return ReplyKeyboardMarkup(keyboard=rows, resize_keyboard=True, is_persistent=True)


def _card_line(kinds: Kinds) -> HTML:
    if kinds.stamps and kinds.points:
        return html(_("/card — your stamp card and points"))
    return html(_("/card — your points, level and rewards") if kinds.points else _("/card — your stamp card"))


def _cause_line(kinds: Kinds) -> HTML:
    if kinds.stamps and kinds.points:
        return html(_("/cause — the cause your shop gives to, and giving your points, stamps or a reward"))
    if kinds.points:
        return html(_("/cause — the cause your shop gives to, and giving your points or a reward"))
    return html(_("/cause — the cause your shop gives to, and giving your stamps or a reward"))


def customer_help(kinds: Kinds = Kinds()) -> HTML:
    return join_html(
        "\n",
        [
            html(_("<b>Your loyalty card in Telegram</b>")),
            _card_line(kinds),
            html(
                _(
                    "/code — your personal code and QR: show it when you pay\n"
                    "/rewards — rewards you can use, with their codes\n"
                    "/claim — tell staff you just bought something (they confirm in the chat)\n"
                    "/lang — Bahasa Indonesia or English\n"
                    "/stop — no more offers from this shop · /mydata — what Kartu keeps about you\n"
                    "/leave — leave this shop · /forget — erase your personal data"
                )
            ),
            html(_("/invite — a link for friends · /birthday — a gift on your birthday")),
            _cause_line(kinds),
            html(_("/spin — spin the wheel when a purchase earned you a spin; the odds of each prize")),
            html(
                _(
                    "/member — the shop's paid membership in Telegram Stars · /paysupport — help with a payment"
                )
            ),
        ],
    )


def staff_help(kinds: Kinds = Kinds()) -> HTML:
    counter = (
        _(
            "Send the customer's code, then the amount it was for (or /buy CODE 125000), check the name, then tap Confirm."
        )
        if kinds.points
        else _(
            "Send the customer's code (or /stamp CODE 2 for two purchases), check the name, then tap Confirm."
        )
    )
    return join_html(
        "\n",
        [
            html(_("<b>At the counter</b>")),
            html(counter),
            html(
                _(
                    "Send a reward code (or /redeem CODE) to hand out a reward.\n"
                    "/duty — receive customers' purchase claims (on/off)\n"
                    "/shop — which shop you act for, if you work at several\n"
                    "/lang — Bahasa Indonesia or English"
                )
            ),
        ],
    )


def manager_help() -> HTML:
    return html(
        _(
            "<b>Running your outlet</b>\n"
            "/staff — your outlet's team: invite or remove staff, unlock code entry\n"
            "/stats — your outlet's visits, rewards and ratings · /feedback — its ratings and comments"
        )
    )


def owner_help() -> HTML:
    return join_html(
        "\n",
        [
            html(
                _(
                    "<b>Running your shop</b>\n"
                    "/link — your customers' join link, QR and a poster to print\n"
                    "/program — stamps needed, reward, limits and expiry\n"
                    "/staff — invite or remove your team\n"
                    "/broadcast — message your customers · /stats — numbers and a chart\n"
                    "/feedback — ratings and comments · /export — CSV files"
                )
            ),
            html(
                _(
                    "/catalogue — rewards customers get with points · /adjust CODE +50 reason — change points by hand"
                )
            ),
            html(_("/tiers — levels like Silver and Gold, their perks and private groups")),
            html(_("/causes — a cause your shop gives to with every purchase, its payouts")),
            html(_("/wheel — prizes of the wheel with their odds and budgets, and what earns a spin")),
            html(_("/partners — vouchers with partner shops, your address and map, the monthly settlement")),
            html(_("/membership — a paid membership in Telegram Stars · /refund CODE — refund a member")),
            html(_("/merge — make another shop you own part of this business, with a preview first")),
            html(_("/apikeys — keys for your point of sale to credit purchases over HTTP")),
            html(_("/webhooks — signed events to your own systems: joins, purchases, rewards, surveys")),
        ],
    )


def help_for(menu: MenuView) -> HTML:
    parts = {
        Audience.OWNER: [owner_help(), staff_help(menu.kinds)],
        Audience.MANAGER: [manager_help(), staff_help(menu.kinds)],
        Audience.STAFF: [staff_help(menu.kinds)],
        Audience.CUSTOMER: [customer_help(menu.kinds)],
    }[Audience(menu.audience)]
    if menu.audience != Audience.CUSTOMER:
        parts.append(
            html(_("📷 Tap Scan and point the camera at the customer's QR code: no typing."))
            if PAGES.get("scan")
            else html(
                _(
                    "📷 Scanning codes with the camera needs this Kartu's public https address "
                    "(KARTU_PUBLIC_URL), which its operator has not set: type the code meanwhile."
                )
            )
        )
    if menu.audience != Audience.CUSTOMER and menu.has_card:
        parts.append(html(_("Collecting stamps yourself? Tap 🎟 My cards (customer).")))
    if menu.audience == Audience.CUSTOMER and menu.works_somewhere:
        parts.append(html(_("Working today? Tap 🧑‍🍳 Staff menu.")))
    return HTML("\n\n".join(parts))


def commands_for(menu: MenuView) -> list[BotCommand]:
    table = {
        Audience.OWNER: OWNER_COMMANDS,
        Audience.MANAGER: MANAGER_COMMANDS,
        Audience.STAFF: STAFF_COMMANDS,
        Audience.CUSTOMER: CUSTOMER_COMMANDS,
    }[Audience(menu.audience)]
    locale = i18n_locale()
    return [
        BotCommand(command=command_name(name, locale), description=_(text)) for name, text in table.items()
    ]
