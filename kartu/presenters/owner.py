"""What owners read: their team, their program, their broadcasts' audiences and their exports."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from aiogram.utils.keyboard import InlineKeyboardBuilder
from babel.lists import format_list

from kartu.bot.i18n import KartuI18n
from kartu.handlers.callbacks import ProgramField, TeamAction
from kartu.loyalty.expiry import MAX_REMINDERS
from kartu.loyalty.program import NUMBER_SETTINGS, REWARD_NAME_MAX
from kartu.loyalty.segments import Segment
from kartu.loyalty.staff import Role
from kartu.presenters.format import HTML, N_, date_text, html, i18n_locale, join_html, number_text, plain
from kartu.services.views import ProgramView, TeamView

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
}


def _days(count: int) -> str:
    return plain(ngettext("{count} day", "{count} days", count), count=count)


def setting_value(program: ProgramView, field: str) -> str:
    """A setting as an owner reads it: "after 180 days without a visit", "none", "7 and 1 days before"."""
    value = getattr(program, field)
    match field:
        case "daily_stamp_cap":
            return plain(ngettext("{count} stamp", "{count} stamps", value), count=value) if value else _("no limit")
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
            return plain(ngettext("{days} day before", "{days} days before", days[-1] if len(days) == 1 else 2), days=listed)
        case "quiet_hours":
            return str(value).replace("-", "–") if value and value != "0" else _("none")
    return str(value)


def team_text(team: TeamView, i18n: KartuI18n) -> tuple[HTML, InlineKeyboardMarkup]:
    lines = [html(_("<b>Team of {shop}</b>"), shop=team.merchant_name)]
    builder = InlineKeyboardBuilder()
    for member in team.members:
        role = _("owner") if member.role == Role.OWNER else _("staff")
        # last_active_at counts work at the counter, which owners may never do: an owner is
        # described by since when, staff by their last stamp or since when they have none.
        since = date_text(member.added_at, team.timezone, i18n.current_locale) if member.added_at else "—"
        if member.last_active_at:
            seen = plain(_("last stamp or reward {date}"), date=date_text(member.last_active_at, team.timezone, i18n.current_locale))
        elif member.role == Role.OWNER:
            seen = plain(_("since {date}"), date=since)
        else:
            seen = plain(_("joined {date}, no stamps given yet"), date=since)
        if member.staff_id == team.viewer_staff_id:
            seen = plain(_("{seen} (you)"), seen=seen)
        handle = plain(" @{username}", username=member.username) if member.username else ""
        lock = _(", 🔒 code entry locked") if member.locked else ""
        lines.append(html("• {first_name}{handle} — {role}, {seen}{lock}", first_name=member.first_name, handle=handle, role=role, seen=seen, lock=lock))
        if member.locked:
            builder.button(
                text=plain(_("🔓 Unlock {first_name}"), first_name=member.first_name or "?"),
                callback_data=TeamAction(action="unlock", staff_id=member.staff_id),
            )
        if member.staff_id != team.viewer_staff_id:
            builder.button(
                text=plain(_("Remove {first_name}"), first_name=member.first_name or "?"),
                callback_data=TeamAction(action="revoke", staff_id=member.staff_id),
            )
    builder.button(text=_("➕ Invite staff"), callback_data=TeamAction(action="invite"))
    builder.button(text=_("👑 Invite a co-owner"), callback_data=TeamAction(action="coowner"))
    builder.adjust(1)
    return join_html("\n", lines), builder.as_markup()


PROGRAM_GROUPS = (
    (N_("🎟 Card"), ("stamps_required", "reward_name", "stamps_per_purchase", "daily_stamp_cap")),
    (N_("⏳ Expiry"), ("stamp_expiry_days", "reward_valid_days", "reminder_days")),
    (N_("💬 Messages"), ("survey_delay_minutes", "survey_every_days", "quiet_hours")),
)


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
}


BACK = "back"  # ProgramField(field=BACK): leave the question, show the program again


def program_text(program: ProgramView, saved: str | None = None) -> tuple[HTML, InlineKeyboardMarkup]:
    """The program in three groups, one short button per setting, two per row by group."""
    lines = []
    if saved is not None:
        lines += [html(_("✅ Saved: {label} is now <b>{value}</b>."), label=_(SETTING_LABELS[saved]), value=setting_value(program, saved)), html("")]
    lines.append(html(_("<b>Stamp program of {shop}</b>"), shop=program.merchant_name))
    builder = InlineKeyboardBuilder()
    sizes = []
    for title, group in PROGRAM_GROUPS:
        lines.append(html("\n<b>{title}</b>", title=_(title)))
        for field in group:
            lines.append(html("• {label}: <b>{value}</b>", label=_(SETTING_LABELS[field]), value=setting_value(program, field)))
            builder.button(text=_(SETTING_BUTTONS[field]), callback_data=ProgramField(field=field))
        sizes += [2] * (len(group) // 2) + [1] * (len(group) % 2)
    lines.append(html("\n") + html(_("Tap a setting to change it.")))
    builder.adjust(*sizes)
    return join_html("\n", lines), builder.as_markup()


def setting_hint(field: str) -> HTML:
    if field == "reward_name":
        return html(_("Send the new reward name (up to {high} characters)."), high=REWARD_NAME_MAX)
    if field == "quiet_hours":
        return html(_("Send the quiet hours like 21-8 or 22:30-07:00 (shop time), or 0 for none."))
    if field == "reminder_days":
        return html(_("Send up to {count} numbers of days, like 7,1 (0 = no reminders)."), count=MAX_REMINDERS)
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
}


SEGMENT_LABELS = {
    Segment.ALL: N_("Everyone"),
    Segment.ACTIVE: N_("Active (a visit in 30 days)"),
    Segment.LAPSED: N_("Lapsed (no visit for 30+ days)"),
    Segment.CLOSE: N_("Close to a reward (70%+ of the card)"),
    Segment.REWARD: N_("Holding an unused reward"),
}
