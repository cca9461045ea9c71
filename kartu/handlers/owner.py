"""Owners: the team (invite, list, revoke) and the stamp program (a guided chat form)."""

from __future__ import annotations

import asyncio
import logging

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, Message, ReactionTypeEmoji
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from aiogram.utils.keyboard import InlineKeyboardBuilder
from babel.dates import format_date

from kartu.bot.i18n import KartuI18n
from kartu.handlers.callbacks import ProgramConfirm, ProgramField, TeamAction
from kartu.handlers.common import best_effort, cancel_form
from kartu.handlers.filters import MenuButton
from kartu.handlers.menus import publish_menu
from kartu.loyalty.errors import ProgramChangeAffectsCards
from kartu.loyalty.links import LinkKind, deep_link
from kartu.loyalty.program import EDITABLE_SETTINGS
from kartu.loyalty.staff import INVITE_TTL, Role
from kartu.media.charts import WeeklyChart, render_weekly_visits
from kartu.media.exports import ExportWords, ledger_csv, members_csv
from kartu.media.poster import PosterText, render_poster
from kartu.presenters.common import confirm_cancel
from kartu.presenters.customer import REASON_LABELS
from kartu.presenters.format import date_text, decimal_text, html, join_html, percent_text, plain
from kartu.presenters.menus import MENU_LINK, MENU_PROGRAM, MENU_STATS, MENU_TEAM, keyboard_for
from kartu.presenters.owner import (
    BACK,
    EXPORT_HEADERS,
    EXPORT_VALUES,
    SETTING_LABELS,
    program_text,
    setting_hint,
    setting_value,
    team_text,
)
from kartu.services.container import Services

log = logging.getLogger(__name__)


class ProgramForm(StatesGroup):
    value = State()


async def show_team(message: Message, services: Services, i18n: KartuI18n) -> None:
    team = await services.merchants.team(message.from_user.id)  # type: ignore[union-attr]
    text, markup = team_text(team, i18n)
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
        text, markup = team_text(await services.merchants.team(owner_id), i18n)
        if isinstance(query.message, Message):
            await query.message.edit_text(text, reply_markup=markup)
        return
    if callback_data.action in ("revoke_ok", "unlock"):
        if callback_data.action == "revoke_ok":
            removed = await services.merchants.revoke_staff(owner_id, callback_data.staff_id)
            await query.answer(plain(_("{first_name} was removed from the team."), first_name=removed.first_name))
            menu = await services.merchants.menu(removed.recipient.telegram_id)
            with i18n.use_locale(removed.recipient.language):
                notice = html(_("You were removed from the team of <b>{shop}</b>. Staff features there no longer work for you."),
                              shop=removed.merchant_name)
                try:
                    await bot.send_message(removed.recipient.telegram_id, notice, reply_markup=keyboard_for(menu))
                except TelegramAPIError as error:  # they blocked the bot, say: the removal stands
                    log.info("could not tell %s about their removal: %s", removed.recipient.telegram_id, error)
                await publish_menu(bot, removed.recipient.telegram_id, menu)
        else:
            first_name = await services.merchants.unlock_staff(owner_id, callback_data.staff_id)
            await query.answer(plain(_("{first_name} can type codes again."), first_name=first_name))
        text, markup = team_text(await services.merchants.team(owner_id), i18n)
        if isinstance(query.message, Message):
            await query.message.edit_text(text, reply_markup=markup)
        return
    await query.answer(_("This button is no longer valid."), show_alert=True)


async def show_program(message: Message, services: Services, state: FSMContext) -> None:
    await state.clear()
    text, markup = program_text(await services.merchants.program(message.from_user.id))  # type: ignore[union-attr]
    await message.answer(text, reply_markup=markup)


async def ask_setting(query: CallbackQuery, callback_data: ProgramField, services: Services, state: FSMContext) -> None:
    """The program message turns into the question (edited in place, with a Back button)."""
    program = await services.merchants.program(query.from_user.id)  # the owner check, before anything else
    if not isinstance(query.message, Message):
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    if callback_data.field == BACK:
        await state.clear()
        text, markup = program_text(program)
        await best_effort(query.message.edit_text(text, reply_markup=markup))
        await query.answer()
        return
    if callback_data.field not in EDITABLE_SETTINGS:
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    field = callback_data.field
    await state.set_state(ProgramForm.value)
    await state.update_data(field=field, screen=query.message.message_id)
    back = InlineKeyboardBuilder()
    back.button(text=_("⬅️ Back"), callback_data=ProgramField(field=BACK))
    await best_effort(query.message.edit_text(
        join_html("\n", [
            html(_("{label} is now <b>{value}</b>."), label=_(SETTING_LABELS[field]), value=setting_value(program, field)),
            setting_hint(field),
            html(_("Or tap Back to keep it.")),
        ]),
        reply_markup=back.as_markup(),
    ))
    await query.answer()  # after the edit: the spinner stops when the question shows


async def receive_setting(message: Message, services: Services, state: FSMContext, bot: Bot) -> None:
    await save_setting(message, message.from_user.id, message.text or "", services, state, bot, typed=message)  # type: ignore[union-attr]


async def save_setting(
    message: Message, owner_id: int, value: str, services: Services, state: FSMContext, bot: Bot, *,
    confirmed: bool = False, typed: Message | None = None,
) -> None:
    """The new value arrived (typed now, confirmed after it looked like a code, or confirmed
    after the owner saw which cards it changes). The program message is updated in place and
    the owner's answer gets a 👍; a refusal is answered in a message of its own."""
    data = await state.get_data()
    field = data.get("field", "")
    try:
        program = await services.merchants.change_program(owner_id, field, value, confirmed=confirmed)
    except ProgramChangeAffectsCards as affected:
        await state.update_data(pending=value)  # what the Save button below refers to
        await message.answer(
            html(ngettext("{cards} customer card holds {required} stamps or more. If you save, it keeps {kept} stamps "
                          "(one short of a reward); no reward is issued by the change. Save?",
                          "{cards} customer cards hold {required} stamps or more. If you save, each keeps {kept} stamps "
                          "(one short of a reward); no reward is issued by the change. Save?", affected.cards),
                 cards=affected.cards, required=affected.stamps_required, kept=affected.stamps_required - 1),
            reply_markup=confirm_cancel(ProgramConfirm(choice="save").pack(), ProgramConfirm(choice="keep").pack()),
        )
        return
    await state.clear()
    text, markup = program_text(program, saved=field)
    screen = data.get("screen")
    if typed is not None:
        await best_effort(typed.react([ReactionTypeEmoji(emoji="👍")]))
    try:
        if not isinstance(screen, int):
            raise LookupError("no program message to update")
        await bot.edit_message_text(text, chat_id=message.chat.id, message_id=screen, reply_markup=markup)
    except (TelegramAPIError, LookupError):  # deleted, or too old to edit: show it anew
        await message.answer(text, reply_markup=markup)


async def confirm_change(query: CallbackQuery, callback_data: ProgramConfirm, services: Services, state: FSMContext, bot: Bot) -> None:
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
    await save_setting(query.message, query.from_user.id, pending, services, state, bot, confirmed=True)
    await best_effort(query.message.edit_text(_("Saved.")))  # the question is answered; the program above shows the change


async def setting_not_text(message: Message) -> None:
    await message.answer(_("Please send the new value as text, or /cancel."))


async def show_feedback(message: Message, services: Services, i18n: KartuI18n) -> None:
    report = await services.feedback.report(message.from_user.id)  # type: ignore[union-attr]
    lines = [html(_("<b>Feedback for {shop}</b>"), shop=report.merchant_name)]
    if report.count == 0:
        lines.append(html(_("No ratings yet. Customers are asked after a purchase.")))
    else:
        lines.append(html(ngettext("Average rating: <b>{average}</b>/5 from {count} rating", "Average rating: <b>{average}</b>/5 from {count} ratings",
                                   report.count), average=decimal_text(report.average), count=report.count))
    for item in report.comments:
        lines.append(html(
            "• {first_name} ({rating}/5, {date}): {comment}", first_name=item.first_name, rating=item.rating or "–",
            date=date_text(item.at, report.timezone, i18n.current_locale), comment=item.comment,
        ))
    await message.answer(join_html("\n", lines))


async def show_stats(message: Message, services: Services, i18n: KartuI18n) -> None:
    stats = await services.reports.stats(message.from_user.id)  # type: ignore[union-attr]
    lines = [
        html(_("<b>{shop} in numbers</b>"), shop=stats.merchant_name),
        html(_("Members: <b>{members}</b> ({new} new this week)"), members=stats.members, new=stats.new_this_week),
        html(_("Active in the last 30 days: <b>{active}</b>"), active=stats.active_30_days),
        html(_("Came back (2+ visits): <b>{rate}</b>"), rate=percent_text(stats.repeat_rate)),
        html(_("Visits per member: <b>{visits}</b>"),
             visits="–" if stats.visits_per_member is None else decimal_text(stats.visits_per_member)),
        html(_("Rewards: {issued} issued, {redeemed} redeemed ({rate})"),
             issued=stats.rewards_issued, redeemed=stats.rewards_redeemed, rate=percent_text(stats.redemption_rate)),
        html(ngettext("Average rating: {average} from {count} rating", "Average rating: {average} from {count} ratings", stats.ratings),
             average="–" if stats.average_rating is None else plain("{average}/5", average=decimal_text(stats.average_rating)), count=stats.ratings),
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
    """The join link, and a poster for the counter: a picture for the chat, PDFs to print."""
    info = await services.merchants.join_info(message.from_user.id)  # type: ignore[union-attr]
    link = deep_link((await bot.me()).username or "", LinkKind.JOIN, info.slug)
    poster = await asyncio.to_thread(render_poster, PosterText(
        shop_name=info.merchant_name,
        headline=_("Your stamp card, right in Telegram"),
        steps=(
            _("Scan this code with your phone's camera and tap Start."),
            plain(_("Show your code when you pay: every purchase earns a stamp. {required} stamps = {reward} 🎁"),
                  required=info.stamps_required, reward=info.reward_name),
        ),
        link=link,
        footer=_("No app, no paper card."),
    ))
    await message.answer_photo(
        BufferedInputFile(poster.png, filename="poster.png"),
        caption=html(_("Customers join <b>{shop}</b> with this link, or by scanning the QR code on the poster:\n{link}\n\n"
                       "Print the poster for the counter: the PDFs below are A6 (postcard) and A5 (half of A4)."),
                     shop=info.merchant_name, link=link),
    )
    for size, pdf in (("A6", poster.pdf_a6), ("A5", poster.pdf_a5)):
        await message.answer_document(BufferedInputFile(pdf, filename=plain("{slug}-poster-{size}.pdf", slug=info.slug, size=size)))


async def send_export(message: Message, services: Services) -> None:
    export = await services.reports.export(message.from_user.id)  # type: ignore[union-attr]
    words = ExportWords({key: _(text) for key, text in EXPORT_HEADERS.items()}, {key: _(text) for key, text in EXPORT_VALUES.items()})
    members = await asyncio.to_thread(members_csv, export.members, export.timezone, words)
    ledger = await asyncio.to_thread(ledger_csv, export.ledger, export.timezone, words)
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
    owner.message.register(show_team, MenuButton(MENU_TEAM))
    owner.message.register(show_program, Command("program"))
    owner.message.register(show_program, MenuButton(MENU_PROGRAM))
    owner.message.register(send_join_link, Command("link", "qr"))
    owner.message.register(send_join_link, MenuButton(MENU_LINK))
    owner.message.register(show_stats, MenuButton(MENU_STATS))
    owner.message.register(show_feedback, Command("feedback"))
    owner.message.register(show_stats, Command("stats"))
    owner.message.register(send_export, Command("export"))
    owner.callback_query.register(team_action, TeamAction.filter())
    owner.callback_query.register(ask_setting, ProgramField.filter())
    owner.callback_query.register(confirm_change, ProgramConfirm.filter())
    owner.message.register(receive_setting, ProgramForm.value, F.text, ~F.text.startswith("/"))
    owner.message.register(setting_not_text, ProgramForm.value, ~F.text)
    return owner
