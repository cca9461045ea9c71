"""Owners: the team (invite, list, revoke) and the stamp program (a guided chat form)."""

from __future__ import annotations

import asyncio
import logging

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from babel.dates import format_date

from kartu.bot.i18n import KartuI18n
from kartu.handlers.callbacks import ProgramConfirm, ProgramField, TeamAction
from kartu.handlers.common import cancel_form
from kartu.handlers.render import HTML, N_, REASON_LABELS, confirm_cancel, date_text, html, join_html, plain
from kartu.loyalty.errors import ProgramChangeAffectsCards
from kartu.loyalty.expiry import MAX_REMINDERS
from kartu.loyalty.links import LinkKind, deep_link
from kartu.loyalty.program import EDITABLE_SETTINGS, NUMBER_SETTINGS, REWARD_NAME_MAX
from kartu.loyalty.staff import INVITE_TTL, Role
from kartu.media.charts import WeeklyChart, render_weekly_visits
from kartu.media.exports import ledger_csv, members_csv
from kartu.media.qr import render_qr
from kartu.services.container import Services
from kartu.services.views import ProgramView, TeamView

log = logging.getLogger(__name__)

SETTING_LABELS = {
    "stamps_required": N_("Stamps for a reward"),
    "reward_name": N_("Reward"),
    "stamps_per_purchase": N_("Stamps per purchase"),
    "daily_stamp_cap": N_("Daily stamp limit per customer (0 = none)"),
    "stamp_expiry_days": N_("Stamps expire after days without a visit (0 = never)"),
    "reward_valid_days": N_("Reward codes valid for days"),
    "reminder_days": N_("Reminders: days before stamps or rewards expire"),
    "survey_delay_minutes": N_("Feedback survey: minutes after a purchase"),
    "survey_every_days": N_("Feedback survey: at most once per this many days (0 = off)"),
    "quiet_hours": N_("Quiet hours (no reminders, surveys or broadcasts)"),
}


class ProgramForm(StatesGroup):
    value = State()


def _team_text(team: TeamView, i18n: KartuI18n) -> tuple[HTML, InlineKeyboardMarkup]:
    lines = [html(_("<b>Team of {shop}</b>"), shop=team.merchant_name)]
    builder = InlineKeyboardBuilder()
    for member in team.members:
        role = _("owner") if member.role == Role.OWNER else _("staff")
        seen = (
            plain(_("last active {date}"), date=date_text(member.last_active_at, team.timezone, i18n.current_locale))
            if member.last_active_at
            else _("not active yet")
        )
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


async def show_team(message: Message, services: Services, i18n: KartuI18n) -> None:
    team = await services.merchants.team(message.from_user.id)  # type: ignore[union-attr]
    text, markup = _team_text(team, i18n)
    await message.answer(text, reply_markup=markup)


async def team_action(query: CallbackQuery, callback_data: TeamAction, services: Services, bot: Bot, i18n: KartuI18n) -> None:
    owner_id = query.from_user.id
    if callback_data.action in ("invite", "coowner"):
        co_owner = callback_data.action == "coowner"
        token = await services.merchants.invite_staff(owner_id, Role.OWNER if co_owner else Role.STAFF)
        link = deep_link((await bot.me()).username or "", LinkKind.OWNER_INVITE if co_owner else LinkKind.STAFF_INVITE, token)
        await query.answer()
        hours = int(INVITE_TTL.total_seconds() // 3600)
        text = (
            _("Send this link to your co-owner. They can do everything you can. It works once, within {hours} hours:\n{link}")
            if co_owner
            else _("Send this link to your new staff member. It works once, within {hours} hours:\n{link}")
        )
        await query.message.answer(html(text, hours=hours, link=link))  # type: ignore[union-attr]
        return
    if callback_data.action == "revoke":  # ask first: removing someone is not undone by a tap
        first_name = await services.merchants.member_name(owner_id, callback_data.staff_id)
        await query.answer()
        builder = InlineKeyboardBuilder()
        builder.button(text=plain(_("✅ Remove {first_name}"), first_name=first_name or "?"),
                       callback_data=TeamAction(action="revoke_ok", staff_id=callback_data.staff_id))
        builder.button(text=_("✖️ Keep"), callback_data=TeamAction(action="list"))
        if isinstance(query.message, Message):
            await query.message.edit_text(
                html(_("Remove {first_name} from the team? They will no longer be able to give stamps or see the shop's data."),
                     first_name=first_name),
                reply_markup=builder.as_markup(),
            )
        return
    if callback_data.action == "list":
        await query.answer()
        text, markup = _team_text(await services.merchants.team(owner_id), i18n)
        if isinstance(query.message, Message):
            await query.message.edit_text(text, reply_markup=markup)
        return
    if callback_data.action in ("revoke_ok", "unlock"):
        if callback_data.action == "revoke_ok":
            removed = await services.merchants.revoke_staff(owner_id, callback_data.staff_id)
            await query.answer(plain(_("{first_name} was removed from the team."), first_name=removed.first_name))
            with i18n.use_locale(removed.recipient.language):
                notice = html(_("You were removed from the team of <b>{shop}</b>. Staff features there no longer work for you."),
                              shop=removed.merchant_name)
            try:
                await bot.send_message(removed.recipient.telegram_id, notice)
            except TelegramAPIError as error:  # they blocked the bot, say: the removal stands
                log.info("could not tell %s about their removal: %s", removed.recipient.telegram_id, error)
        else:
            first_name = await services.merchants.unlock_staff(owner_id, callback_data.staff_id)
            await query.answer(plain(_("{first_name} can type codes again."), first_name=first_name))
        text, markup = _team_text(await services.merchants.team(owner_id), i18n)
        if isinstance(query.message, Message):
            await query.message.edit_text(text, reply_markup=markup)
        return
    await query.answer(_("This button is no longer valid."), show_alert=True)


def _program_text(program: ProgramView) -> tuple[HTML, InlineKeyboardMarkup]:
    lines = [html(_("<b>Stamp program of {shop}</b>"), shop=program.merchant_name)]
    builder = InlineKeyboardBuilder()
    for field in EDITABLE_SETTINGS:
        value = getattr(program, field)
        lines.append(html("• {label}: <b>{value}</b>", label=_(SETTING_LABELS[field]), value=str(value)))
        builder.button(text=_(SETTING_LABELS[field]), callback_data=ProgramField(field=field))
    lines.append(html(_("Tap a setting to change it.")))
    builder.adjust(1)
    return join_html("\n", lines), builder.as_markup()


async def show_program(message: Message, services: Services, state: FSMContext) -> None:
    await state.clear()
    text, markup = _program_text(await services.merchants.program(message.from_user.id))  # type: ignore[union-attr]
    await message.answer(text, reply_markup=markup)


async def ask_setting(query: CallbackQuery, callback_data: ProgramField, services: Services, state: FSMContext) -> None:
    program = await services.merchants.program(query.from_user.id)  # the owner check, before anything else
    if callback_data.field not in EDITABLE_SETTINGS:
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    field = callback_data.field
    if field == "reward_name":
        hint = html(_("Send the new reward name (up to {high} characters)."), high=REWARD_NAME_MAX)
    elif field == "quiet_hours":
        hint = html(_("Send the quiet hours like 21-8 or 22:30-07:00 (shop time), or 0 for none."))
    elif field == "reminder_days":
        hint = html(_("Send up to {count} numbers of days, like 7,1 (0 = no reminders)."), count=MAX_REMINDERS)
    else:
        limits = NUMBER_SETTINGS[field]
        hint = html(_("Send a whole number from {low} to {high}."), low=limits.minimum, high=limits.maximum)
    await state.set_state(ProgramForm.value)
    await state.update_data(field=field)
    await query.answer()
    await query.message.answer(  # type: ignore[union-attr]
        join_html("\n", [
            html(_("{label} is now <b>{value}</b>."), label=_(SETTING_LABELS[field]), value=str(getattr(program, field))),
            hint,
            html(_("Send /cancel to keep it.")),
        ])
    )


async def receive_setting(message: Message, services: Services, state: FSMContext) -> None:
    await save_setting(message, message.from_user.id, message.text or "", services, state)  # type: ignore[union-attr]


async def save_setting(message: Message, owner_id: int, value: str, services: Services, state: FSMContext, *, confirmed: bool = False) -> None:
    """The new value arrived (typed now, confirmed after it looked like a code, or confirmed
    after the owner saw which cards it changes)."""
    field = (await state.get_data()).get("field", "")
    try:
        program = await services.merchants.change_program(owner_id, field, value, confirmed=confirmed)
    except ProgramChangeAffectsCards as affected:
        await state.update_data(pending=value)  # what the Save button below refers to
        await message.answer(
            html(_("{cards} customer card(s) hold {required} stamps or more. If you save, each keeps {kept} stamps "
                   "(one short of a reward); no reward is issued by the change. Save?"),
                 cards=affected.cards, required=affected.stamps_required, kept=affected.stamps_required - 1),
            reply_markup=confirm_cancel(ProgramConfirm(choice="save").pack(), ProgramConfirm(choice="keep").pack()),
        )
        return
    await state.clear()
    text, markup = _program_text(program)
    await message.answer(join_html("\n\n", [html(_("Saved.")), text]), reply_markup=markup)


async def confirm_change(query: CallbackQuery, callback_data: ProgramConfirm, services: Services, state: FSMContext) -> None:
    pending = (await state.get_data()).get("pending")
    if await state.get_state() != ProgramForm.value.state or not isinstance(pending, str) or not isinstance(query.message, Message):
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    if callback_data.choice != "save":
        await state.clear()
        await query.answer()
        await query.message.edit_text(_("Cancelled. Nothing was changed."))
        return
    await query.answer()
    await save_setting(query.message, query.from_user.id, pending, services, state, confirmed=True)


async def setting_not_text(message: Message) -> None:
    await message.answer(_("Please send the new value as text, or /cancel."))


async def show_feedback(message: Message, services: Services, i18n: KartuI18n) -> None:
    report = await services.feedback.report(message.from_user.id)  # type: ignore[union-attr]
    lines = [html(_("<b>Feedback for {shop}</b>"), shop=report.merchant_name)]
    if report.count == 0:
        lines.append(html(_("No ratings yet. Customers are asked after a purchase.")))
    else:
        lines.append(html(_("Average rating: <b>{average:.1f}</b>/5 from {count} rating(s)"), average=report.average, count=report.count))
    for item in report.comments:
        lines.append(html(
            "• {first_name} ({rating}/5, {date}): {comment}", first_name=item.first_name, rating=item.rating or "–",
            date=date_text(item.at, report.timezone, i18n.current_locale), comment=item.comment,
        ))
    await message.answer(join_html("\n", lines))


def _percent(value: float | None) -> str:
    return "–" if value is None else plain("{value:.0%}", value=value)


async def show_stats(message: Message, services: Services, i18n: KartuI18n) -> None:
    stats = await services.reports.stats(message.from_user.id)  # type: ignore[union-attr]
    lines = [
        html(_("<b>{shop} in numbers</b>"), shop=stats.merchant_name),
        html(_("Members: <b>{members}</b> ({new} new this week)"), members=stats.members, new=stats.new_this_week),
        html(_("Active in the last 30 days: <b>{active}</b>"), active=stats.active_30_days),
        html(_("Came back (2+ visits): <b>{rate}</b>"), rate=_percent(stats.repeat_rate)),
        html(_("Visits per member: <b>{visits}</b>"),
             visits="–" if stats.visits_per_member is None else plain("{visits:.1f}", visits=stats.visits_per_member)),
        html(_("Rewards: {issued} issued, {redeemed} redeemed ({rate})"),
             issued=stats.rewards_issued, redeemed=stats.rewards_redeemed, rate=_percent(stats.redemption_rate)),
        html(_("Average rating: {average} from {count} rating(s)"),
             average="–" if stats.average_rating is None else plain("{average:.1f}/5", average=stats.average_rating), count=stats.ratings),
    ]
    if stats.low_rating_reasons:
        reasons = ", ".join(
            plain("{reason} ({count})", reason=_(REASON_LABELS[reason]), count=count)
            for reason, count in stats.low_rating_reasons if reason in REASON_LABELS
        )
        lines.append(html(_("Why low ratings: {reasons}"), reasons=reasons))
    await message.answer(join_html("\n", lines))
    chart = WeeklyChart(
        title=_("Visits per week, last 12 weeks"),
        week_labels=tuple(format_date(week.week_start, format="d MMM", locale=i18n.current_locale) for week in stats.weeks),
        new=tuple(week.new for week in stats.weeks),
        returning=tuple(week.returning for week in stats.weeks),
        new_label=_("New customers"),
        returning_label=_("Returning customers"),
        y_label=_("Visits"),
    )
    png = await asyncio.to_thread(render_weekly_visits, chart)
    await message.answer_photo(BufferedInputFile(png, filename="visits.png"))


async def send_join_link(message: Message, services: Services, bot: Bot) -> None:
    shop, slug = await services.merchants.join_slug(message.from_user.id)  # type: ignore[union-attr]
    link = deep_link((await bot.me()).username or "", LinkKind.JOIN, slug)
    png = await asyncio.to_thread(render_qr, link)
    await message.answer_photo(
        BufferedInputFile(png, filename="join.png"),
        caption=html(_("Customers join <b>{shop}</b> with this link, or by scanning the QR code (print it for the counter):\n{link}"),
                     shop=shop, link=link),
    )


async def send_export(message: Message, services: Services) -> None:
    export = await services.reports.export(message.from_user.id)  # type: ignore[union-attr]
    members = await asyncio.to_thread(members_csv, export.members, export.timezone)
    ledger = await asyncio.to_thread(ledger_csv, export.ledger, export.timezone)
    await message.answer_document(
        BufferedInputFile(members, filename=plain("{slug}-members.csv", slug=export.merchant_slug)),
        caption=html(_("Members: {count}"), count=len(export.members)),
    )
    await message.answer_document(
        BufferedInputFile(ledger, filename=plain("{slug}-ledger.csv", slug=export.merchant_slug)),
        caption=html(_("Ledger entries: {count}"), count=len(export.ledger)),
    )


def router() -> Router:
    owner = Router(name="owner")
    owner.message.register(cancel_form, Command("cancel"), StateFilter(ProgramForm))
    owner.message.register(show_team, Command("staff", "team"))
    owner.message.register(show_program, Command("program"))
    owner.message.register(send_join_link, Command("link", "qr"))
    owner.message.register(show_feedback, Command("feedback"))
    owner.message.register(show_stats, Command("stats"))
    owner.message.register(send_export, Command("export"))
    owner.callback_query.register(team_action, TeamAction.filter())
    owner.callback_query.register(ask_setting, ProgramField.filter())
    owner.callback_query.register(confirm_change, ProgramConfirm.filter())
    owner.message.register(receive_setting, ProgramForm.value, F.text, ~F.text.startswith("/"))
    owner.message.register(setting_not_text, ProgramForm.value, ~F.text)
    return owner
