"""What owners read: their team, their program, their broadcasts' audiences and their exports."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from aiogram.utils.keyboard import InlineKeyboardBuilder
from babel.dates import format_date
from babel.lists import format_list

from kartu.bot.i18n import KartuI18n
from kartu.loyalty.bonuses import BONUS_LIMITS
from kartu.loyalty.delivery import QuietHours
from kartu.loyalty.expiry import MAX_REMINDERS
from kartu.loyalty.exports import ExportPeriod
from kartu.loyalty.links import LinkKind, deep_link
from kartu.loyalty.merging import MergePreview
from kartu.loyalty.points import POINTS_COLUMNS, is_money_setting, setting_limits
from kartu.loyalty.program import NUMBER_SETTINGS, REWARD_NAME_MAX
from kartu.loyalty.segments import Segment
from kartu.loyalty.staff import Role
from kartu.media.charts import WeeklyChart
from kartu.media.exports import ExportFile, ExportWords
from kartu.media.poster import PosterText
from kartu.presenters.callbacks import (
    BroadcastAction,
    BroadcastSegment,
    BroadcastStep,
    ExportChoice,
    KindsChoice,
    KindsConfirm,
    KindsStep,
    MergeChoice,
    MergeStep,
    ProgramField,
    ProgramKinds,
    TeamAction,
    TeamStep,
)
from kartu.presenters.common import role_name
from kartu.presenters.customer import REASON_LABELS
from kartu.presenters.format import (
    HTML,
    N_,
    date_text,
    decimal_text,
    html,
    i18n_locale,
    join_html,
    money_text,
    number_text,
    percent_text,
    plain,
    stamps_text,
)
from kartu.presenters.wheel import prize_name
from kartu.services.broadcasts import BroadcastPreview
from kartu.services.feedback import FeedbackReport
from kartu.services.merchants import JoinInfo, KindsPreview, ProgramView, TeamView
from kartu.services.merges import OwnedShop
from kartu.services.reports import OutletStats, StatsView
from kartu.services.whatsapp import MonthOnWhatsApp

SETTING_LABELS = {
    "stamps_required": N_("Stamps for a reward"),
    "reward_name": N_("Reward"),
    "stamps_per_purchase": N_("Stamps per purchase"),
    "daily_stamp_cap": N_("Daily limit per customer"),
    "stamp_expiry_days": N_("Stamps expire"),
    "reward_valid_days": N_("Reward codes valid for"),
    "reminder_days": N_("Reminders before expiry"),
    "survey_delay_minutes": N_("Feedback survey after a purchase"),
    "survey_every_days": N_("Feedback survey at most every"),
    "quiet_hours": N_("Quiet hours (no reminders, surveys or broadcasts)"),
    "rupiah_per_point": N_("Points earned"),
    "points_minimum_spend": N_("Minimum spend for points"),
    "points_expiry_months": N_("Points expire"),
    "max_amount": N_("Largest amount staff may enter"),
    "return_hours": N_("Catalogue rewards can be given back within"),
    "welcome_bonus": N_("Welcome bonus"),
    "birthday_bonus": N_("Birthday bonus"),
    "referral_bonus": N_("Bonus for a friend's first purchase (each)"),
    "referral_monthly_cap": N_("Invitation bonuses one customer earns a month"),
    "referral_hold_days": N_("Invitation bonuses paid after the friend's purchase stood"),
}


def _days(count: int) -> str:
    return plain(ngettext("{count} day", "{count} days", count), count=count)


def setting_value(program: ProgramView, field: str) -> str:
    """A setting as an owner reads it: "after 180 days without a visit", "none", "7 and 1 days before"."""
    value = getattr(program, field)
    match field:
        case "daily_stamp_cap":
            return (
                plain(ngettext("{count} stamp", "{count} stamps", value), count=value)
                if value
                else _("no limit")
            )
        case "stamp_expiry_days":
            return plain(_("after {days} without a visit"), days=_days(value)) if value else _("never")
        case "reward_valid_days" | "survey_every_days":
            return _days(value) if value else _("off")
        case "survey_delay_minutes":
            return plain(_("{minutes} min later"), minutes=value)
        case "reminder_days":
            days = [int(day) for day in str(value).split(",") if day.strip().isdigit() and int(day)]
            if not days:
                return _("off")
            listed = format_list([number_text(day) for day in days], style="standard", locale=i18n_locale())
            return plain(
                ngettext("{days} day before", "{days} days before", days[-1] if len(days) == 1 else 2),
                days=listed,
            )
        case "quiet_hours":
            hours = QuietHours.parse(str(value)) if value and value != "0" else None
            if hours is None or hours.start == hours.end:  # "0": none (kept as 00:00-00:00)
                return _("none")
            return str(hours).replace("-", "–")
        case "rupiah_per_point":
            return plain(_("1 point per {amount}"), amount=money_text(value))
        case "points_minimum_spend":
            return money_text(value) if value else _("none")
        case "max_amount":
            return money_text(value)
        case "points_expiry_months":
            return (
                plain(
                    ngettext("{count} month after earning", "{count} months after earning", value),
                    count=value,
                )
                if value
                else _("never")
            )
        case "welcome_bonus" | "birthday_bonus" | "referral_bonus":
            if not value:
                return _("off")
            if program.points_enabled:
                return plain(ngettext("{count} point", "{count} points", value), count=value)
            return plain(ngettext("{count} stamp", "{count} stamps", value), count=value)
        case "referral_monthly_cap":
            return plain(_("at most {count}"), count=value)
        case "referral_hold_days":
            return _days(value) if value else _("at once")
        case "return_hours":
            return plain(ngettext("{count} hour", "{count} hours", value), count=value) if value else _("off")
    return str(value)


def team_text(team: TeamView, i18n: KartuI18n) -> tuple[HTML, InlineKeyboardMarkup]:
    lines = [html(_("<b>Team of {shop}</b>"), shop=team.merchant_name)]
    builder = InlineKeyboardBuilder()
    for member in team.members:
        role = role_name(member.role)
        if member.outlet:
            role = plain(_("{role} at {outlet}"), role=role, outlet=member.outlet)
        # last_active_at counts work at the counter, which owners may never do: an owner is
        # described by since when, staff by their last stamp or since when they have none.
        since = date_text(member.added_at, team.timezone, i18n.current_locale) if member.added_at else "—"
        if member.last_active_at:
            seen = plain(
                _("last stamp or reward {date}"),
                date=date_text(member.last_active_at, team.timezone, i18n.current_locale),
            )
        elif member.role == Role.OWNER:
            seen = plain(_("since {date}"), date=since)
        else:
            seen = plain(_("joined {date}, no stamps given yet"), date=since)
        if member.staff_id == team.viewer_staff_id:
            seen = plain(_("{seen} (you)"), seen=seen)
        handle = plain(" @{username}", username=member.username) if member.username else ""
        lock = _(", 🔒 code entry locked") if member.locked else ""
        lines.append(
            html(
                "• {first_name}{handle} — {role}, {seen}{lock}",
                first_name=member.first_name,
                handle=handle,
                role=role,
                seen=seen,
                lock=lock,
            )
        )
        if member.locked:
            builder.button(
                text=plain(_("🔓 Unlock {first_name}"), first_name=member.first_name or "?"),
                callback_data=TeamAction(action=TeamStep.UNLOCK, staff_id=member.staff_id),
            )
        removable = team.viewer_role == Role.OWNER or member.role == Role.STAFF
        if member.staff_id != team.viewer_staff_id and removable:
            builder.button(
                text=plain(_("Remove {first_name}"), first_name=member.first_name or "?"),
                callback_data=TeamAction(action=TeamStep.REMOVE, staff_id=member.staff_id),
            )
    builder.button(text=_("➕ Invite staff"), callback_data=TeamAction(action=TeamStep.INVITE_STAFF))
    if team.viewer_role == Role.OWNER:
        builder.button(
            text=_("🧭 Invite an outlet manager"), callback_data=TeamAction(action=TeamStep.INVITE_MANAGER)
        )
        builder.button(text=_("👑 Invite a co-owner"), callback_data=TeamAction(action=TeamStep.INVITE_OWNER))
    builder.adjust(1)
    return join_html("\n", lines), builder.as_markup()


def invite_outlet_question(
    action: TeamStep, outlets: tuple[tuple[int, str], ...]
) -> tuple[HTML, InlineKeyboardMarkup]:
    """An owner invites staff or a manager in a business with several outlets: for which one?"""
    builder = InlineKeyboardBuilder()
    for outlet_id, name in outlets:
        builder.button(
            text=plain("📍 {outlet}", outlet=name),
            callback_data=TeamAction(action=action, outlet_id=outlet_id),
        )
    if action == TeamStep.INVITE_STAFF:
        builder.button(text=_("🏢 Every outlet"), callback_data=TeamAction(action=TeamStep.INVITE_EVERYWHERE))
    builder.adjust(1)
    question = (
        _("Which outlet will the new manager run?")
        if action == TeamStep.INVITE_MANAGER
        else _("Which outlet will the new staff member work at?")
    )
    return html(question), builder.as_markup()


PROGRAM_GROUPS = (
    (N_("🎟 Card"), ("stamps_required", "reward_name", "stamps_per_purchase", "daily_stamp_cap")),
    (
        N_("⭐ Points"),
        ("rupiah_per_point", "points_minimum_spend", "points_expiry_months", "max_amount", "return_hours"),
    ),
    (N_("⏳ Expiry"), ("stamp_expiry_days", "reward_valid_days", "reminder_days")),
    (
        N_("🎁 Bonuses"),
        ("welcome_bonus", "birthday_bonus", "referral_bonus", "referral_monthly_cap", "referral_hold_days"),
    ),
    (N_("💬 Messages"), ("survey_delay_minutes", "survey_every_days", "quiet_hours")),
)
STAMP_SETTINGS = frozenset(
    ("stamps_required", "reward_name", "stamps_per_purchase", "daily_stamp_cap", "stamp_expiry_days")
)
KIND_LABELS = {
    ProgramKinds.STAMPS: N_("🎟 Stamps only"),
    ProgramKinds.POINTS: N_("⭐ Points only"),
    ProgramKinds.BOTH: N_("🎟⭐ Stamps and points"),
}


def kinds_of(program: ProgramView) -> ProgramKinds:
    if program.stamps_enabled and program.points_enabled:
        return ProgramKinds.BOTH
    return ProgramKinds.POINTS if program.points_enabled else ProgramKinds.STAMPS


SETTING_BUTTONS = {
    "stamps_required": N_("🎯 Stamps"),
    "reward_name": N_("🎁 Reward"),
    "stamps_per_purchase": N_("➕ Per purchase"),
    "daily_stamp_cap": N_("📅 Daily limit"),
    "stamp_expiry_days": N_("⌛ Stamp expiry"),
    "reward_valid_days": N_("🎫 Reward validity"),
    "reminder_days": N_("🔔 Reminders"),
    "survey_delay_minutes": N_("⏱ Survey delay"),
    "survey_every_days": N_("🔁 Survey frequency"),
    "quiet_hours": N_("🌙 Quiet hours"),
    "rupiah_per_point": N_("💰 Rupiah per point"),
    "points_minimum_spend": N_("🧾 Minimum spend"),
    "points_expiry_months": N_("⌛ Points expiry"),
    "max_amount": N_("🚧 Largest amount"),
    "return_hours": N_("↩️ Give-back window"),
    "welcome_bonus": N_("👋 Welcome"),
    "birthday_bonus": N_("🎂 Birthday"),
    "referral_bonus": N_("🤝 Referral"),
    "referral_monthly_cap": N_("📆 Referrals a month"),
    "referral_hold_days": N_("⏳ Referral wait"),
}


BACK = "back"  # ProgramField(field=BACK): leave the question, show the program again
KINDS = "kinds"  # ProgramField(field=KINDS): choose stamps, points or both


def kinds_question(program: ProgramView) -> tuple[HTML, InlineKeyboardMarkup]:
    builder = InlineKeyboardBuilder()
    current = kinds_of(program)
    for kinds, label in KIND_LABELS.items():
        mark = "✅ " if kinds == current else ""
        builder.button(
            text=plain("{mark}{label}", mark=mark, label=_(label)), callback_data=KindsChoice(kinds=kinds)
        )
    builder.button(text=_("⬅️ Back"), callback_data=ProgramField(field=BACK))
    builder.adjust(1)
    return html(
        _(
            "What does your shop run? Stamps: a card that fills with visits. Points: earned on what customers "
            "spend, exchanged in your rewards catalogue (/catalogue). Both side by side: each purchase earns a stamp "
            "and points. Cards keep what they hold when you switch."
        )
    ), builder.as_markup()


def kinds_of_choice(choice: ProgramKinds) -> tuple[bool, bool]:
    return choice in (ProgramKinds.STAMPS, ProgramKinds.BOTH), choice in (
        ProgramKinds.POINTS,
        ProgramKinds.BOTH,
    )


def choice_of(stamps: bool, points: bool) -> ProgramKinds:
    if stamps and points:
        return ProgramKinds.BOTH
    return ProgramKinds.POINTS if points else ProgramKinds.STAMPS


def kinds_preview(preview: KindsPreview, rate: int = 0) -> tuple[HTML, InlineKeyboardMarkup]:
    """A switch of kinds before it is made: what customers hold of what stops and what becomes of
    it, the wheel's prizes that come off, the unit bonuses are given in; then the owner's choice.
    With ``rate``: what converting at that rate comes to, to confirm."""
    switch, program = preview.switch, preview.program
    choice = choice_of(switch.after.stamps, switch.after.points)
    holdings = switch.holdings
    lines = [
        html(
            _("Switch <b>{shop}</b> to <b>{kinds}</b>?"),
            shop=program.merchant_name,
            kinds=_(KIND_LABELS[choice]),
        )
    ]
    if switch.asks_about_stamps and rate:
        lines.append(
            html(
                ngettext(
                    "{cards} customer holds {stamps}: they become {points} ({rate} each), and the customer is told.",
                    "{cards} customers hold {stamps}: they become {points} ({rate} each), and each customer is told.",
                    holdings.stamp_cards,
                ),
                cards=holdings.stamp_cards,
                stamps=stamps_text(holdings.stamps),
                points=plain(
                    ngettext("{count} point", "{count} points", holdings.stamps * rate),
                    count=holdings.stamps * rate,
                ),
                rate=plain(ngettext("{count} point", "{count} points", rate), count=rate),
            )
        )
    elif switch.asks_about_stamps:
        lines.append(
            html(
                ngettext(
                    "{cards} customer holds {stamps}. What becomes of them?",
                    "{cards} customers hold {stamps}. What becomes of them?",
                    holdings.stamp_cards,
                ),
                cards=holdings.stamp_cards,
                stamps=stamps_text(holdings.stamps),
            )
        )
        lines.append(
            html(
                _(
                    "• Keep: their cards keep collecting a stamp per purchase until they are full (the reward) or lapse.\n"
                    "• Convert: each stamp becomes points now."
                )
            )
        )
    if switch.stops_points and holdings.points:
        lines.append(
            html(
                ngettext(
                    "{cards} customer holds {points}: they stay usable in /rewards until they lapse.",
                    "{cards} customers hold {points}: they stay usable in /rewards until they lapse.",
                    holdings.point_cards,
                ),
                cards=holdings.point_cards,
                points=plain(
                    ngettext("{count} point", "{count} points", holdings.points), count=holdings.points
                ),
            )
        )
    if switch.dropped_prizes:
        lines.append(
            html(
                _("The wheel's prizes {prizes} come off the wheel."),
                prizes=", ".join(prize_name(unit, amount, "") for unit, amount in switch.dropped_prizes),
            )
        )
    bonuses = [program.welcome_bonus, program.birthday_bonus, program.referral_bonus]
    if switch.bonus_unit_changes and any(bonuses):
        lines.append(
            html(
                _("Bonuses will be given in points: check them in /program → 🎁 Bonuses.")
                if switch.after.points
                else _("Bonuses will be given in stamps: check them in /program → 🎁 Bonuses.")
            )
        )
    builder = InlineKeyboardBuilder()
    if switch.asks_about_stamps and rate:
        builder.button(
            text=_("✅ Convert"),
            callback_data=KindsConfirm(kinds=choice, step=KindsStep.CONVERT_CONFIRMED, rate=rate),
        )
    elif switch.asks_about_stamps:
        builder.button(text=_("🎟 Keep"), callback_data=KindsConfirm(kinds=choice, step=KindsStep.KEEP))
        builder.button(text=_("⭐ Convert"), callback_data=KindsConfirm(kinds=choice, step=KindsStep.CONVERT))
    else:
        builder.button(text=_("✅ Switch"), callback_data=KindsConfirm(kinds=choice, step=KindsStep.SWITCH))
    builder.button(text=_("⬅️ Back"), callback_data=ProgramField(field=KINDS))
    builder.adjust(2 if switch.asks_about_stamps and not rate else 1, 1)
    return join_html("\n", lines), builder.as_markup()


def rate_question() -> HTML:
    return html(_("How many points does one stamp become? Send a whole number, like 10."))


def program_text(program: ProgramView, saved: str | None = None) -> tuple[HTML, InlineKeyboardMarkup]:
    """The program in three groups, one short button per setting, two per row by group."""
    lines = []
    if saved is not None:
        lines += [
            html(
                _("✅ Saved: {label} is now <b>{value}</b>."),
                label=_(SETTING_LABELS[saved]),
                value=setting_value(program, saved),
            ),
            html(""),
        ]
    lines.append(html(_("<b>Loyalty program of {shop}</b>"), shop=program.merchant_name))
    lines.append(html(_("Runs: <b>{kinds}</b>"), kinds=_(KIND_LABELS[kinds_of(program)])))
    builder = InlineKeyboardBuilder()
    builder.button(text=_("🔀 Stamps or points"), callback_data=ProgramField(field=KINDS))
    sizes = [1]
    for title, group in PROGRAM_GROUPS:
        if not program.points_enabled and group[0] == "rupiah_per_point":
            continue
        shown = tuple(field for field in group if program.stamps_enabled or field not in STAMP_SETTINGS)
        if not shown:
            continue
        lines.append(html("\n<b>{title}</b>", title=_(title)))
        for field in shown:
            lines.append(
                html(
                    "• {label}: <b>{value}</b>",
                    label=_(SETTING_LABELS[field]),
                    value=setting_value(program, field),
                )
            )
            builder.button(text=_(SETTING_BUTTONS[field]), callback_data=ProgramField(field=field))
        sizes += [2] * (len(shown) // 2) + [1] * (len(shown) % 2)
    lines.append(HTML(html("\n") + html(_("Tap a setting to change it."))))
    builder.adjust(*sizes)
    return join_html("\n", lines), builder.as_markup()


def setting_hint(field: str) -> HTML:
    if field == "reward_name":
        return html(_("Send the new reward name (up to {high} characters)."), high=REWARD_NAME_MAX)
    if field == "quiet_hours":
        return html(_("Send the quiet hours like 21-8 or 22:30-07:00 (shop time), or 0 for none."))
    if field == "reminder_days":
        return html(
            _("Send up to {count} numbers of days, like 7,1 (0 = no reminders)."), count=MAX_REMINDERS
        )
    if field in BONUS_LIMITS:
        low, high = BONUS_LIMITS[field]
        if field == "referral_monthly_cap":
            return html(_("Send a whole number from {low} to {high}."), low=low, high=high)
        if field == "referral_hold_days":
            return html(
                _(
                    "Send how many days a friend's first purchase must stand before both get the bonus, from {low} to {high} (a refund within it pays nothing)."
                ),
                low=low,
                high=high,
            )
        return html(
            _(
                "Send a whole number from {low} to {high}: points when the shop runs points, else stamps (0 = off)."
            ),
            low=low,
            high=high,
        )
    if field in POINTS_COLUMNS:
        low, high = setting_limits(field)
        if is_money_setting(field):
            return html(
                _("Send an amount in rupiah from {low} to {high}, like 10.000 or 10rb."),
                low=money_text(low),
                high=money_text(high),
            )
        return html(_("Send a whole number from {low} to {high}."), low=low, high=high)
    limits = NUMBER_SETTINGS[field]
    return html(_("Send a whole number from {low} to {high}."), low=limits.minimum, high=limits.maximum)


EXPORT_HEADERS = {
    "first_name": N_("Name"),
    "username": N_("Telegram username"),
    "code": N_("Code"),
    "joined_at": N_("Joined"),
    "stamps": N_("Stamps"),
    "visits": N_("Visits"),
    "last_visit": N_("Last visit"),
    "opted_in": N_("Gets offers"),
    "open_rewards": N_("Unused rewards"),
    "entry_id": N_("Entry"),
    "at": N_("Time"),
    "customer_code": N_("Customer code"),
    "customer_name": N_("Customer"),
    "asset": N_("What"),
    "delta": N_("Change"),
    "reason": N_("Why"),
    "actor": N_("Staff"),
    "points": N_("Points"),
    "note": N_("Note"),
    "level": N_("Level"),
    "invited_by": N_("Invited by"),
    "joined_outlet": N_("Joined at outlet"),
    "last_outlet": N_("Last visit at outlet"),
    "outlet": N_("Outlet"),
    "cause": N_("Cause"),
    "status": N_("Status"),
    "target": N_("Target (Rp)"),
    "pledged": N_("Raised, pledged (Rp)"),
    "paid": N_("Paid to the cause (Rp)"),
    "givers": N_("Givers"),
    "last_day": N_("Last day"),
    "voucher": N_("Voucher"),
    "from_shop": N_("Earned at"),
    "to_shop": N_("Used at"),
    "issued_at": N_("Given (UTC)"),
    "expires_at": N_("Expires (UTC)"),
    "redeemed_at": N_("Used (UTC)"),
    "value": N_("Value (Rp)"),
}


EXPORT_VALUES = {
    "yes": N_("yes"),
    "no": N_("no"),
    "stamp": N_("stamp"),
    "reward": N_("reward"),
    "purchase": N_("purchase"),
    "reward_issued": N_("card full, reward issued"),
    "reward_redeemed": N_("reward redeemed"),
    "program_change": N_("program changed"),
    "expired": N_("expired"),
    "left": N_("customer left"),
    "forgotten": N_("customer erased their data"),
    "point": N_("points"),
    "catalogue": N_("catalogue reward"),
    "returned": N_("reward given back"),
    "adjusted": N_("changed by hand"),
    "welcome": N_("welcome gift"),
    "birthday": N_("birthday gift"),
    "referral": N_("invited a friend"),
    "cause": N_("rupiah to a cause"),
    "donation": N_("given to a cause"),
    "shop_gift": N_("the shop's gift to a cause"),
    "partner": N_("partner voucher"),
    "stars": N_("Telegram Stars"),
    "membership": N_("paid membership"),
    "refund": N_("refunded"),
    "spin": N_("wheel spin"),
    "earned": N_("earned by a purchase"),
    "spun": N_("wheel spun"),
    "active": N_("running"),
    "closed": N_("ended"),
}


SEGMENT_LABELS = {
    Segment.ALL: N_("Everyone"),
    Segment.ACTIVE: N_("Active (a visit in 30 days)"),
    Segment.LAPSED: N_("Lapsed (no visit for 30+ days)"),
    Segment.CLOSE: N_("Close to a reward (70%+ of the card)"),
    Segment.REWARD: N_("Holding an unused reward"),
    Segment.MEMBERS: N_("Paid members (/membership)"),
}


def invite_text(role: str, link: str, hours: int) -> HTML:
    if role == Role.MANAGER:
        return html(
            _(
                "Send this link to the outlet's new manager. They will run its team and see its figures. It works once, within {hours} hours:\n{link}"
            ),
            hours=hours,
            link=link,
        )
    if role == Role.OWNER:
        return html(
            _(
                "Send this link to your co-owner. They can do everything you can. It works once, within {hours} hours:\n{link}"
            ),
            hours=hours,
            link=link,
        )
    return html(
        _("Send this link to your new staff member. It works once, within {hours} hours:\n{link}"),
        hours=hours,
        link=link,
    )


def merge_question(target: str, shops: list[OwnedShop]) -> tuple[HTML, InlineKeyboardMarkup | None]:
    """/merge: which of the owner's other shops becomes part of the business they act for."""
    if not shops:
        return (
            html(
                _(
                    "You own no other shop to merge into <b>{shop}</b>. (/shop switches to the business that should stay.)"
                ),
                shop=target,
            ),
            None,
        )
    builder = InlineKeyboardBuilder()
    for shop in shops:
        builder.button(
            text=plain("🏪 {shop}", shop=shop.name),
            callback_data=MergeChoice(step=MergeStep.PREVIEW, merchant_id=shop.merchant_id),
        )
    builder.adjust(1)
    return (
        html(
            _(
                "Which shop should become part of <b>{shop}</b>? You will see what changes before anything does."
            ),
            shop=target,
        ),
        builder.as_markup(),
    )


def merge_preview(preview: MergePreview, merchant_id: int) -> tuple[HTML, InlineKeyboardMarkup]:
    """What a merge will do, with Merge and Cancel."""
    lines = [
        html(_("<b>Merge {source} into {target}?</b>"), source=preview.source, target=preview.target),
        html(
            _("📍 {outlets} become outlets of {target}; their links, codes, keys and webhooks keep working."),
            outlets=", ".join(preview.outlets) or preview.source,
            target=preview.target,
        ),
        html(
            ngettext(
                "🎟 {cards} card: {new} new at {target}, {both} added to the customer's card there (one ledger row each).",
                "🎟 {cards} cards: {new} new at {target}, {both} added to the customer's card there (one ledger row each).",
                preview.cards,
            ),
            cards=preview.cards,
            new=preview.new_cards,
            both=preview.both,
            target=preview.target,
        ),
        html(
            _(
                "They carry {stamps} stamps, {points} points and {rewards} unused rewards (their codes keep working)."
            ),
            stamps=preview.stamps,
            points=number_text(preview.points),
            rewards=preview.rewards,
        ),
        html(
            ngettext(
                "👥 {team} member of its team joins yours at its outlet (its other owners as the outlet's managers).",
                "👥 {team} members of its team join yours at its outlet (its other owners as the outlet's managers).",
                preview.team,
            ),
            team=preview.team,
        ),
        html(
            _(
                "{target}'s program applies from now on; {source}'s settings are kept but no longer used. This cannot be undone."
            ),
            source=preview.source,
            target=preview.target,
        ),
    ]
    builder = InlineKeyboardBuilder()
    builder.button(
        text=plain(_("✅ Merge {source}"), source=preview.source),
        callback_data=MergeChoice(step=MergeStep.MERGE, merchant_id=merchant_id),
    )
    builder.button(
        text=_("✖️ Cancel"), callback_data=MergeChoice(step=MergeStep.DROP, merchant_id=merchant_id)
    )
    builder.adjust(1)
    return join_html("\n", lines), builder.as_markup()


def merged_text(preview: MergePreview) -> HTML:
    return html(
        ngettext(
            "✅ {source} is now part of {target}: {cards} card carried over. /stats shows each outlet.",
            "✅ {source} is now part of {target}: {cards} cards carried over. /stats shows each outlet.",
            preview.cards,
        ),
        source=preview.source,
        target=preview.target,
        cards=preview.cards,
    )


def remove_question(first_name: str | None, staff_id: int) -> tuple[HTML, InlineKeyboardMarkup]:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=plain(_("✅ Remove {first_name}"), first_name=first_name or "?"),
        callback_data=TeamAction(action=TeamStep.REMOVE_CONFIRMED, staff_id=staff_id),
    )
    builder.button(text=_("✖️ Keep"), callback_data=TeamAction(action=TeamStep.LIST))
    text = html(
        _(
            "Remove {first_name} from the team? They will no longer be able to give stamps or see the shop's data."
        ),
        first_name=first_name,
    )
    return text, builder.as_markup()


def segment_question(audience: Mapping[Segment, int]) -> tuple[str, InlineKeyboardMarkup]:
    """Who should get a broadcast: one button per segment with its live count (paid members only in
    a shop that has some)."""
    builder = InlineKeyboardBuilder()
    for segment, label in SEGMENT_LABELS.items():
        if segment is Segment.MEMBERS and not audience.get(segment):
            continue
        builder.button(
            text=plain("{label} ({count})", label=_(label), count=audience[segment]),
            callback_data=BroadcastSegment(segment=segment),
        )
    builder.button(text=_("✖️ Cancel"), callback_data=BroadcastAction(action=BroadcastStep.DROP))
    builder.adjust(1)
    return _(
        "Who should get it? Customers who opted out, blocked the bot or got a broadcast in the last day are not counted."
    ), builder.as_markup()


def send_question(
    count: int, segment: Segment, outlet: str | None = None
) -> tuple[HTML, InlineKeyboardMarkup]:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("📣 Send"), callback_data=BroadcastAction(action=BroadcastStep.SEND))
    builder.button(text=_("✖️ Cancel"), callback_data=BroadcastAction(action=BroadcastStep.DROP))
    label = _(SEGMENT_LABELS[segment])
    if outlet:
        label = plain(_("{segment}, last visit at {outlet}"), segment=label, outlet=outlet)
    text = html(
        ngettext(
            "Above is the preview. Send it to {count} customer ({segment})?",
            "Above is the preview. Send it to {count} customers ({segment})?",
            count,
        ),
        count=count,
        segment=label,
    )
    return text, builder.as_markup()


def outlet_question(preview: BroadcastPreview) -> tuple[str, InlineKeyboardMarkup]:
    """A business with several outlets: the whole business's customers, or those of one outlet
    (their last visit was there), each with its live count."""
    builder = InlineKeyboardBuilder()
    builder.button(
        text=plain(_("🏢 Every outlet ({count})"), count=preview.audience),
        callback_data=BroadcastSegment(segment=preview.segment, scope="all"),
    )
    for outlet_id, name, count in preview.outlets:
        builder.button(
            text=plain("📍 {outlet} ({count})", outlet=name, count=count),
            callback_data=BroadcastSegment(segment=preview.segment, scope=str(outlet_id)),
        )
    builder.button(text=_("✖️ Cancel"), callback_data=BroadcastAction(action=BroadcastStep.DROP))
    builder.adjust(1)
    return _(
        "Customers of which outlet? An outlet's customers are those whose last visit was there."
    ), builder.as_markup()


def feedback_text(report: FeedbackReport, locale: str) -> HTML:
    lines = [html(_("<b>Feedback for {shop}</b>"), shop=report.merchant_name)]
    if report.count == 0:
        lines.append(html(_("No ratings yet. Customers are asked after a purchase.")))
    else:
        lines.append(
            html(
                ngettext(
                    "Average rating: <b>{average}</b>/5 from {count} rating",
                    "Average rating: <b>{average}</b>/5 from {count} ratings",
                    report.count,
                ),
                average=decimal_text(report.average or 0.0),
                count=report.count,
            )
        )
    for item in report.comments:
        lines.append(
            html(
                "• {first_name} ({rating}/5, {date}): {comment}",
                first_name=item.first_name,
                rating=item.rating or "–",
                date=date_text(item.at, report.timezone, locale),
                comment=item.comment,
            )
        )
    return join_html("\n", lines)


def stats_text(stats: StatsView) -> HTML:
    lines = [
        html(_("<b>{shop} in numbers</b>"), shop=stats.merchant_name),
        html(
            _("Members: <b>{members}</b> ({new} new this week)"),
            members=stats.members,
            new=stats.new_this_week,
        ),
        html(_("Active in the last 30 days: <b>{active}</b>"), active=stats.active_30_days),
        html(_("Came back (2+ visits): <b>{rate}</b>"), rate=percent_text(stats.repeat_rate)),
        html(
            _("Visits per member: <b>{visits}</b>"),
            visits="–" if stats.visits_per_member is None else decimal_text(stats.visits_per_member),
        ),
        html(
            _("Rewards: {issued} issued, {redeemed} redeemed ({rate})"),
            issued=stats.rewards_issued,
            redeemed=stats.rewards_redeemed,
            rate=percent_text(stats.redemption_rate),
        ),
        html(
            ngettext(
                "Average rating: {average} from {count} rating",
                "Average rating: {average} from {count} ratings",
                stats.ratings,
            ),
            average="–"
            if stats.average_rating is None
            else plain("{average}/5", average=decimal_text(stats.average_rating)),
            count=stats.ratings,
        ),
    ]
    if stats.low_rating_reasons:
        reasons = ", ".join(
            plain("{reason} ({count})", reason=_(REASON_LABELS[reason]), count=count)
            for reason, count in stats.low_rating_reasons
            if reason in REASON_LABELS
        )
        lines.append(html(_("Why low ratings: {reasons}"), reasons=reasons))
    if stats.points is not None:
        points = stats.points
        lines += [
            html(
                _("Points: {earned} earned, {spent} spent, {expired} expired; customers hold {held}"),
                earned=points.earned,
                spent=points.spent,
                expired=points.expired,
                held=points.outstanding,
            ),
            html(
                _("Catalogue rewards: {taken} taken, {redeemed} redeemed"),
                taken=points.catalogue_taken,
                redeemed=points.catalogue_redeemed,
            ),
        ]
    if stats.levels:
        held = ", ".join(plain("{name} {count}", name=name, count=count) for name, count in stats.levels)
        lines.append(html(_("Levels: {levels}"), levels=held))
    given, used = stats.vouchers
    if given or used:
        lines.append(
            html(
                _("🤝 Partner vouchers this month: {given} given to your customers, {used} used here"),
                given=given,
                used=used,
            )
        )
    if stats.whatsapp is not None:
        lines.extend(whatsapp_lines(stats.members, stats.whatsapp))
    printed, claimed = stats.receipts
    if printed:
        lines.append(
            html(
                _("🧾 Receipt codes: {printed} printed, {claimed} claimed"), printed=printed, claimed=claimed
            )
        )
    paid_members, stars = stats.paid_members
    if paid_members or stars:
        lines.append(
            html(
                _("💎 Paid members: {members}; Stars this month: {stars}"), members=paid_members, stars=stars
            )
        )
    earned, spun, lapsed = stats.spins
    if earned:
        won = ", ".join(
            plain("{prize} ×{count}", prize=prize_name(kind, amount, label), count=count)
            for kind, amount, label, count in stats.won
        )
        lines.append(
            html(
                _("🎡 Spins: {earned} earned, {spun} spun, {lapsed} lapsed. Won: {won}"),
                earned=earned,
                spun=spun,
                lapsed=lapsed,
                won=won or "—",
            )
        )
    for cause in stats.causes[-3:]:
        lines.append(
            html(
                _("💚 {name}: {pledged} raised of {target} (pledged), {paid} paid to the cause"),
                name=cause.name,
                pledged=money_text(cause.pledged),
                target=money_text(cause.target),
                paid=money_text(cause.paid),
            )
        )
    joined, paid = stats.referrals
    if joined:
        lines.append(
            html(
                _("Invited friends: {joined} joined, {paid} made a first purchase"),
                joined=joined,
                paid=paid,
            )
        )
    asked, approved, median = stats.disputes
    if asked:
        lines.append(
            html(
                _(
                    "🧾 Missing stamps in 30 days: {asked} asked, {approved} approved; decided in {minutes} min (median)"
                ),
                asked=asked,
                approved=approved,
                minutes="–" if median is None else median,
            )
        )
    if stats.outlets:
        lines.append(html(_("📍 <b>Per outlet</b>")))
        lines.extend(outlet_line(outlet) for outlet in stats.outlets)
        lines.append(
            html(_("Members who visit more than one outlet: <b>{count}</b>"), count=stats.several_outlets)
        )
    return join_html("\n", lines)


def outlet_line(outlet: OutletStats) -> HTML:
    """One outlet's figures in a line (counted since purchases record their outlet)."""
    return html(
        ngettext(
            "• {outlet}: {members} member, {visits} visits ({recent} in 30 days), rewards {issued} issued, {redeemed} redeemed, rating {rating} ({ratings})",
            "• {outlet}: {members} members, {visits} visits ({recent} in 30 days), rewards {issued} issued, {redeemed} redeemed, rating {rating} ({ratings})",
            outlet.members,
        ),
        outlet=outlet.name,
        members=outlet.members,
        visits=outlet.visits,
        recent=outlet.visits_30_days,
        issued=outlet.rewards_issued,
        redeemed=outlet.rewards_redeemed,
        rating="–"
        if outlet.average_rating is None
        else plain("{average}/5", average=decimal_text(outlet.average_rating)),
        ratings=outlet.ratings,
    )


def outlet_stats_text(outlet: OutletStats) -> HTML:
    """An outlet manager's /stats: their outlet's figures only."""
    return join_html(
        "\n",
        [
            html(_("<b>{shop} · {outlet} in numbers</b>"), shop=outlet.business, outlet=outlet.name),
            outlet_line(outlet),
        ],
    )


def weekly_chart(stats: StatsView, locale: str) -> WeeklyChart:
    return WeeklyChart(
        title=_("Visits per week, last 12 weeks"),
        week_labels=tuple(
            format_date(week.week_start, format="d MMM", locale=locale) for week in stats.weeks
        ),
        new=tuple(week.new for week in stats.weeks),
        returning=tuple(week.returning for week in stats.weeks),
        new_label=_("New customers"),
        returning_label=_("Returning customers"),
        y_label=_("Visits"),
    )


WHATSAPP_CATEGORIES = {
    "service": N_("answers and news within 24 hours (free)"),
    "utility": N_("updates by template"),
    "marketing": N_("offers by template"),
    "authentication": N_("codes by template"),
}


def whatsapp_lines(members: int, month: MonthOnWhatsApp) -> list[HTML]:
    """/stats on WhatsApp: members by messenger, this month's messages by what Meta bills them as,
    and the news waiting for a customer's window (a template would reach them now)."""
    lines = [
        html(
            _("💬 Members on WhatsApp: <b>{whatsapp}</b>, on Telegram: <b>{telegram}</b>"),
            whatsapp=month.members,
            telegram=max(members - month.members, 0),
        )
    ]
    for category, count in sorted(month.messages.items()):
        label = WHATSAPP_CATEGORIES.get(category)
        lines.append(
            html(
                _("WhatsApp this month, {what}: {count}"),
                what=_(label) if label else category,
                count=count,
            )
        )
    if month.billable:
        lines.append(html(_("Of them billed by Meta: <b>{count}</b>"), count=month.billable))
    if month.waiting:
        lines.append(
            html(
                ngettext(
                    "⏸ {count} message needs a template: the customer has not written in 24 hours",
                    "⏸ {count} messages need a template: their customers have not written in 24 hours",
                    month.waiting,
                ),
                count=month.waiting,
            )
        )
    return lines


def whatsapp_link_caption(info: JoinInfo, link: str) -> HTML:
    return html(
        _("Customers on WhatsApp join <b>{shop}</b> with this link, or by scanning this poster:\n{link}"),
        shop=info.merchant_name,
        link=link,
    )


def poster_text(info: JoinInfo, link: str, whatsapp: bool = False) -> PosterText:
    """What the counter poster says, in the owner's language; on WhatsApp's poster the QR opens a
    chat with the join words typed."""
    return PosterText(
        shop_name=info.merchant_name,
        headline=_("Your stamp card, right in WhatsApp")
        if whatsapp
        else _("Your stamp card, right in Telegram"),
        steps=(
            _("Scan this code with your phone's camera and send the message WhatsApp opens.")
            if whatsapp
            else _("Scan this code with your phone's camera and tap Start."),
            plain(
                _(
                    "Show your code when you pay: every purchase earns a stamp. {required} stamps = {reward} 🎁"
                ),
                required=info.stamps_required,
                reward=info.reward_name,
            ),
        ),
        link=link,
        footer=_("No app, no paper card."),
    )


def outlets_text(info: JoinInfo, bot_username: str, unknown: str | None = None) -> HTML:
    """Each outlet's own join link (customers who join by it count for it), and how to get its poster."""
    lines = [
        html(_("{shop} has no outlet called <b>{name}</b>."), shop=info.merchant_name, name=unknown)
        if unknown
        else html(
            _("<b>{shop}</b> has {count} outlets, each with its own link:"),
            shop=info.merchant_name,
            count=len(info.outlets),
        )
    ]
    for name, slug in info.outlets:
        lines.append(html("• {name}: {link}", name=name, link=deep_link(bot_username, LinkKind.OUTLET, slug)))
    lines.append(
        html(
            _("For an outlet's poster send /link and its name, like /link {name}."), name=info.outlets[-1][0]
        )
    )
    return join_html("\n", lines)


def join_link_caption(info: JoinInfo, link: str) -> HTML:
    return html(
        _(
            "Customers join <b>{shop}</b> with this link, or by scanning the QR code on the poster:\n{link}\n\n"
            "Print the poster for the counter: the PDFs below are A6 (postcard) and A5 (half of A4)."
        ),
        shop=info.merchant_name,
        link=link,
    )


def export_words() -> ExportWords:
    """The CSV files' headers and values in the current locale."""
    return ExportWords(
        {key: _(text) for key, text in EXPORT_HEADERS.items()},
        {key: _(text) for key, text in EXPORT_VALUES.items()},
    )


EXPORT_PERIODS = {
    ExportPeriod.QUARTER: N_("Last 3 months"),
    ExportPeriod.YEAR: N_("This year"),
    ExportPeriod.ALL: N_("Everything"),
}


def export_question(token: str) -> tuple[HTML, InlineKeyboardMarkup]:
    """/export asks first which stretch of the ledger it covers (the members file is everyone)."""
    keyboard = InlineKeyboardBuilder()
    for period, label in EXPORT_PERIODS.items():
        keyboard.button(text=_(label), callback_data=ExportChoice(run=token, period=period))
    keyboard.adjust(3)
    return (
        html(
            _("Which stretch of the ledger should the export cover? The members file always lists everyone.")
        ),
        keyboard.as_markup(),
    )


def export_preparing(period: ExportPeriod) -> HTML:
    return html(
        _(
            "⏳ Preparing the export ({period})… The files arrive here as they are ready; a big shop's "
            "take a few minutes. You can go on using the bot meanwhile."
        ),
        period=_(EXPORT_PERIODS[period]),
    )


def export_caption(file: ExportFile, parts: int, since: datetime | None, timezone: str, locale: str) -> HTML:
    """What a file holds: how many rows, from when, and which part of how many."""
    if file.table == "members":
        caption = html(_("Members: {count}"), count=file.rows)
    elif file.table == "causes":
        caption = html(_("Causes: {count}"), count=file.rows)
    elif since is None:
        caption = html(_("Ledger entries: {count}"), count=file.rows)
    else:
        caption = html(
            _("Ledger entries from {day}: {count}"),
            day=date_text(since, timezone, locale),
            count=file.rows,
        )
    if not file.part or parts == 1:
        return caption
    return join_html(" · ", [caption, html(_("part {part} of {parts}"), part=file.part, parts=parts)])


def export_done(members: int, entries: int, split: tuple[str, ...], link: str | None) -> HTML:
    """The last word on an export: what it held, why some files came zipped in parts, the link."""
    lines = [
        html(
            _("✅ Export ready: {members} members, {entries} ledger entries."),
            members=members,
            entries=entries,
        )
    ]
    if split:
        lines.append(
            html(
                _(
                    "Telegram takes files of up to 50 MB, so the bigger tables came zipped in parts, each "
                    "under that: open them one by one, or join them in a spreadsheet."
                )
            )
        )
    if link:
        lines.append(
            html(
                _("All of it in one zip file, to download once within the hour:\n{link}"),
                link=link,
            )
        )
    return join_html("\n\n", lines)


def export_failed() -> HTML:
    return html(_("Sorry, the export could not be finished. Please send /export again."))
