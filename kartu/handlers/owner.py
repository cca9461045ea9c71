"""Owners: the team (invite, list, revoke) and the stamp program (a guided chat form)."""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, FSInputFile, Message, ReactionTypeEmoji, User
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from aiogram.utils.keyboard import InlineKeyboardBuilder

from kartu.bot.background import Background
from kartu.bot.i18n import KartuI18n
from kartu.handlers.common import best_effort, cancel_form
from kartu.handlers.filters import MenuButton, OnLoop
from kartu.handlers.menus import publish_menu
from kartu.handlers.states import KindsForm, ProgramForm
from kartu.loyalty.bonuses import BONUS_LIMITS
from kartu.loyalty.errors import ProgramChangeAffectsCards
from kartu.loyalty.exports import PART_LIMIT
from kartu.loyalty.kinds import Leftover, parse_rate
from kartu.loyalty.links import LinkKind, deep_link, whatsapp_join_link
from kartu.loyalty.points import POINTS_COLUMNS
from kartu.loyalty.program import EDITABLE_SETTINGS
from kartu.loyalty.staff import INVITE_TTL, Role, where_name
from kartu.media.charts import render_weekly_visits
from kartu.media.exports import ExportFiles
from kartu.media.poster import render_poster
from kartu.presenters.callbacks import (
    ExportChoice,
    KindsChoice,
    KindsConfirm,
    KindsStep,
    MergeChoice,
    MergeStep,
    ProgramConfirm,
    ProgramField,
    ProgramKinds,
    SaveChoice,
    TeamAction,
    TeamStep,
)
from kartu.presenters.common import confirm_cancel
from kartu.presenters.format import html, join_html, plain
from kartu.presenters.menus import MENU_LINK, MENU_PROGRAM, MENU_STATS, MENU_TEAM, keyboard_for
from kartu.presenters.owner import (
    BACK,
    KINDS,
    SETTING_LABELS,
    export_caption,
    export_done,
    export_failed,
    export_preparing,
    export_question,
    export_words,
    feedback_text,
    invite_outlet_question,
    invite_text,
    join_link_caption,
    kinds_of_choice,
    kinds_preview,
    kinds_question,
    merge_preview,
    merge_question,
    merged_text,
    outlet_stats_text,
    outlets_text,
    poster_text,
    program_text,
    rate_question,
    remove_question,
    setting_hint,
    setting_value,
    stats_text,
    team_text,
    weekly_chart,
    whatsapp_link_caption,
)
from kartu.services.container import Services
from kartu.services.exports import ExportJob

log = logging.getLogger(__name__)


async def show_team(message: Message, event_from_user: User, services: Services, i18n: KartuI18n) -> None:
    text, markup = team_text(await services.merchants.team(event_from_user.id), i18n)
    await message.answer(text, reply_markup=markup)


async def _show_team_in(query: CallbackQuery, services: Services, i18n: KartuI18n) -> None:
    text, markup = team_text(await services.merchants.team(query.from_user.id), i18n)
    if isinstance(query.message, Message):
        await best_effort(query.message.edit_text(text, reply_markup=markup))


INVITED = {
    TeamStep.INVITE_OWNER: Role.OWNER,
    TeamStep.INVITE_MANAGER: Role.MANAGER,
    TeamStep.INVITE_STAFF: Role.STAFF,
    TeamStep.INVITE_EVERYWHERE: Role.STAFF,
}


async def invite(query: CallbackQuery, callback_data: TeamAction, services: Services, bot: Bot) -> None:
    """A one-time link for a new staff member, an outlet's manager or a co-owner, to forward to
    them; in a business with several outlets an owner says which outlet first."""
    role = INVITED[callback_data.action]
    if (
        role != Role.OWNER
        and callback_data.action != TeamStep.INVITE_EVERYWHERE
        and not callback_data.outlet_id
    ):
        team = await services.merchants.team(query.from_user.id)
        if team.viewer_role == Role.OWNER and len(team.outlets) > 1:
            await query.answer()
            if isinstance(query.message, Message):
                text, markup = invite_outlet_question(callback_data.action, team.outlets)
                await query.message.answer(text, reply_markup=markup)
            return
    token = await services.merchants.invite_staff(query.from_user.id, role, callback_data.outlet_id or None)
    link = deep_link(
        (await bot.me()).username or "",
        LinkKind.OWNER_INVITE if role == Role.OWNER else LinkKind.STAFF_INVITE,
        token,
    )
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(invite_text(role, link, int(INVITE_TTL.total_seconds() // 3600)))


async def ask_to_remove(query: CallbackQuery, callback_data: TeamAction, services: Services) -> None:
    """Removing someone is not undone by a tap: ask first, in the same message."""
    first_name = await services.merchants.member_name(query.from_user.id, callback_data.staff_id)
    await query.answer()
    if isinstance(query.message, Message):
        text, markup = remove_question(first_name, callback_data.staff_id)
        await query.message.edit_text(text, reply_markup=markup)


async def show_team_again(query: CallbackQuery, services: Services, i18n: KartuI18n) -> None:
    await query.answer()
    await _show_team_in(query, services, i18n)


async def remove(
    query: CallbackQuery, callback_data: TeamAction, services: Services, bot: Bot, i18n: KartuI18n
) -> None:
    removed = await services.merchants.revoke_staff(query.from_user.id, callback_data.staff_id)
    await query.answer(plain(_("{first_name} was removed from the team."), first_name=removed.first_name))
    telegram_id = removed.recipient.telegram_id
    if telegram_id is None:  # staff are on Telegram; nobody else can be removed from a team
        return
    menu = await services.merchants.menu(telegram_id)
    with i18n.use_locale(removed.recipient.language):
        notice = html(
            _(
                "You were removed from the team of <b>{shop}</b>. Staff features there no longer work for you."
            ),
            shop=removed.merchant_name,
        )
        try:
            await bot.send_message(telegram_id, notice, reply_markup=keyboard_for(menu))
        except TelegramAPIError as error:  # they blocked the bot, say: the removal stands
            log.info("could not tell %s about their removal: %s", telegram_id, error)
        await publish_menu(bot, telegram_id, menu)
    await _show_team_in(query, services, i18n)


async def unlock(
    query: CallbackQuery, callback_data: TeamAction, services: Services, i18n: KartuI18n
) -> None:
    first_name = await services.merchants.unlock_staff(query.from_user.id, callback_data.staff_id)
    await query.answer(plain(_("{first_name} can type codes again."), first_name=first_name))
    await _show_team_in(query, services, i18n)


async def show_program(
    message: Message, event_from_user: User, services: Services, state: FSMContext
) -> None:
    await state.clear()
    text, markup = program_text(await services.merchants.program(event_from_user.id))
    await message.answer(text, reply_markup=markup)


async def ask_setting(
    query: CallbackQuery, callback_data: ProgramField, services: Services, state: FSMContext
) -> None:
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
    if callback_data.field == KINDS:
        await state.clear()
        text, markup = kinds_question(program)
        await best_effort(query.message.edit_text(text, reply_markup=markup))
        await query.answer()
        return
    if callback_data.field not in (*EDITABLE_SETTINGS, *POINTS_COLUMNS, *BONUS_LIMITS):
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    field = callback_data.field
    await state.set_state(ProgramForm.value)
    await state.update_data(field=field, screen=query.message.message_id)
    back = InlineKeyboardBuilder()
    back.button(text=_("⬅️ Back"), callback_data=ProgramField(field=BACK))
    await best_effort(
        query.message.edit_text(
            join_html(
                "\n",
                [
                    html(
                        _("{label} is now <b>{value}</b>."),
                        label=_(SETTING_LABELS[field]),
                        value=setting_value(program, field),
                    ),
                    setting_hint(field),
                    html(_("Or tap Back to keep it.")),
                ],
            ),
            reply_markup=back.as_markup(),
        )
    )
    await query.answer()  # after the edit: the spinner stops when the question shows


async def receive_setting(
    message: Message, event_from_user: User, services: Services, state: FSMContext, bot: Bot
) -> None:
    await save_setting(message, event_from_user.id, message.text or "", services, state, bot, typed=message)


async def save_setting(
    message: Message,
    owner_id: int,
    value: str,
    services: Services,
    state: FSMContext,
    bot: Bot,
    *,
    confirmed: bool = False,
    typed: Message | None = None,
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
            html(
                ngettext(
                    "{cards} customer card holds {required} stamps or more. If you save, it keeps {kept} stamps "
                    "(one short of a reward); no reward is issued by the change. Save?",
                    "{cards} customer cards hold {required} stamps or more. If you save, each keeps {kept} stamps "
                    "(one short of a reward); no reward is issued by the change. Save?",
                    affected.cards,
                ),
                cards=affected.cards,
                required=affected.stamps_required,
                kept=affected.stamps_required - 1,
            ),
            reply_markup=confirm_cancel(
                ProgramConfirm(choice="save").pack(), ProgramConfirm(choice="keep").pack()
            ),
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


async def _pending_change(query: CallbackQuery, state: FSMContext) -> str | None:
    """The value the owner was asked to confirm (it waits in their form, server-side)."""
    pending = (await state.get_data()).get("pending")
    if (
        await state.get_state() != ProgramForm.value.state
        or not isinstance(pending, str)
        or not isinstance(query.message, Message)
    ):
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return None
    return pending


async def choose_kinds(
    query: CallbackQuery, callback_data: KindsChoice, services: Services, state: FSMContext
) -> None:
    """A choice of kinds shows what the switch would do first (the same message, edited)."""
    stamps, points = kinds_of_choice(callback_data.kinds)
    preview = await services.merchants.preview_kinds(query.from_user.id, stamps, points)
    await state.clear()
    await query.answer()
    if isinstance(query.message, Message):
        text, markup = kinds_preview(preview)
        await best_effort(query.message.edit_text(text, reply_markup=markup))


async def confirm_kinds(
    query: CallbackQuery, callback_data: KindsConfirm, services: Services, state: FSMContext
) -> None:
    """Keep, convert (asks how many points a stamp becomes first) or switch, after the preview."""
    stamps, points = kinds_of_choice(callback_data.kinds)
    if not isinstance(query.message, Message):
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    if callback_data.step == KindsStep.CONVERT:
        await services.merchants.preview_kinds(query.from_user.id, stamps, points)  # the owner check first
        await state.set_state(KindsForm.rate)
        await state.set_data({"kinds": str(callback_data.kinds), "screen": query.message.message_id})
        back = InlineKeyboardBuilder()
        back.button(text=_("⬅️ Back"), callback_data=KindsChoice(kinds=callback_data.kinds))
        await query.answer()
        await best_effort(query.message.edit_text(rate_question(), reply_markup=back.as_markup()))
        return
    leftover = Leftover.CONVERT if callback_data.step == KindsStep.CONVERT_CONFIRMED else Leftover.KEEP
    program = await services.merchants.choose_kinds(
        query.from_user.id, stamps, points, leftover, str(callback_data.rate)
    )
    await state.clear()
    await query.answer(_("Saved."))
    text, markup = program_text(program)
    await best_effort(query.message.edit_text(text, reply_markup=markup))


async def rate_typed(
    message: Message, event_from_user: User, services: Services, state: FSMContext, bot: Bot
) -> None:
    """How many points a stamp becomes: the preview, edited in place, says what that comes to."""
    data = await state.get_data()
    choice = ProgramKinds(str(data.get("kinds", ProgramKinds.POINTS)))
    rate = parse_rate(message.text)  # refused: asked again, the form stays open
    stamps, points = kinds_of_choice(choice)
    preview = await services.merchants.preview_kinds(event_from_user.id, stamps, points)
    text, markup = kinds_preview(preview, rate)
    await best_effort(message.react([ReactionTypeEmoji(emoji="👍")]))
    screen = data.get("screen")
    try:
        if not isinstance(screen, int):
            raise LookupError("no screen to update")
        await bot.edit_message_text(text, chat_id=message.chat.id, message_id=screen, reply_markup=markup)
    except (TelegramAPIError, LookupError):  # deleted, or too old to edit: show it anew
        await message.answer(text, reply_markup=markup)


async def save_change(query: CallbackQuery, services: Services, state: FSMContext, bot: Bot) -> None:
    pending = await _pending_change(query, state)
    if pending is None or not isinstance(query.message, Message):
        return
    await query.answer()
    await save_setting(query.message, query.from_user.id, pending, services, state, bot, confirmed=True)
    await best_effort(
        query.message.edit_text(_("Saved."))
    )  # the question is answered; the program above shows the change


async def keep_program(query: CallbackQuery, state: FSMContext) -> None:
    if await _pending_change(query, state) is None or not isinstance(query.message, Message):
        return
    await state.clear()
    await query.answer()
    await query.message.edit_text(_("Cancelled. Nothing was changed."))


async def setting_not_text(message: Message) -> None:
    await message.answer(_("Please send the new value as text, or /cancel."))


async def show_feedback(message: Message, event_from_user: User, services: Services, i18n: KartuI18n) -> None:
    await message.answer(
        feedback_text(await services.feedback.report(event_from_user.id), i18n.current_locale)
    )


async def show_stats(message: Message, event_from_user: User, services: Services, i18n: KartuI18n) -> None:
    """The numbers, announced at once ("⏳ Counting…", edited into them when counted). A second
    tap in the same chat waits for this one (updates of one chat are handled one at a time)."""
    await services.reports.check_owner(event_from_user.id)  # a stranger is refused before anything
    counting = await message.answer(_("⏳ Counting…"))
    outlet = await services.reports.outlet_stats(event_from_user.id)
    if outlet is not None:  # an outlet's manager: their outlet's figures only
        await counting.edit_text(outlet_stats_text(outlet))
        return
    stats = await services.reports.stats(event_from_user.id)
    await counting.edit_text(stats_text(stats))
    png = await asyncio.to_thread(render_weekly_visits, weekly_chart(stats, i18n.current_locale))
    await message.answer_photo(BufferedInputFile(png, filename="visits.png"))


async def send_join_link(
    message: Message,
    event_from_user: User,
    services: Services,
    bot: Bot,
    command: CommandObject | None = None,
) -> None:
    """The join link, and a poster for the counter: a picture for the chat, PDFs to print. A
    business with several outlets also lists each outlet's link; ``/link <outlet>`` gives that
    outlet's poster (customers who join by it count for it)."""
    info = await services.merchants.join_info(event_from_user.id)
    username = (await bot.me()).username or ""
    wanted = (command.args or "").strip().lower() if command else ""
    if wanted:
        outlet = next((o for o in info.outlets if wanted in (o[0].lower(), o[1])), None)
        if outlet is None:
            await message.answer(outlets_text(info, username, unknown=wanted))
            return
        link = deep_link(username, LinkKind.OUTLET, outlet[1])
        shown = replace(info, merchant_name=where_name(info.merchant_name, outlet[0], len(info.outlets)))
        poster = await asyncio.to_thread(render_poster, poster_text(shown, link))
        await message.answer_photo(
            BufferedInputFile(poster.png, filename="poster.png"), caption=join_link_caption(shown, link)
        )
        await message.answer_document(
            BufferedInputFile(poster.pdf_a6, filename=plain("{slug}-poster-A6.pdf", slug=outlet[1]))
        )
        return
    link = deep_link(username, LinkKind.JOIN, info.slug)
    poster = await asyncio.to_thread(render_poster, poster_text(info, link))
    await message.answer_photo(
        BufferedInputFile(poster.png, filename="poster.png"), caption=join_link_caption(info, link)
    )
    for size, pdf in (("A6", poster.pdf_a6), ("A5", poster.pdf_a5)):
        await message.answer_document(
            BufferedInputFile(pdf, filename=plain("{slug}-poster-{size}.pdf", slug=info.slug, size=size))
        )
    number = services.merchants.settings.whatsapp_number
    if number and services.merchants.settings.whatsapp_phone_number_id:  # customers on WhatsApp too
        chat = whatsapp_join_link(number, info.slug)
        poster = await asyncio.to_thread(render_poster, poster_text(info, chat, whatsapp=True))
        await message.answer_photo(
            BufferedInputFile(poster.png, filename="poster-whatsapp.png"),
            caption=whatsapp_link_caption(info, chat),
        )
        await message.answer_document(
            BufferedInputFile(poster.pdf_a6, filename=plain("{slug}-whatsapp-poster-A6.pdf", slug=info.slug))
        )
    if len(info.outlets) > 1:
        await message.answer(outlets_text(info, username))


async def ask_merge(message: Message, event_from_user: User, services: Services) -> None:
    """/merge: the other shops the owner owns, to become part of the business they act for."""
    target, shops = await services.merges.candidates(event_from_user.id)
    text, markup = merge_question(target, shops)
    await message.answer(text, reply_markup=markup)


async def show_merge(query: CallbackQuery, callback_data: MergeChoice, services: Services) -> None:
    """What merging the chosen shop would do; nothing changes until Merge is tapped."""
    preview = await services.merges.preview(query.from_user.id, callback_data.merchant_id)
    await query.answer()
    if isinstance(query.message, Message):
        text, markup = merge_preview(preview, callback_data.merchant_id)
        await best_effort(query.message.edit_text(text, reply_markup=markup))


async def do_merge(query: CallbackQuery, callback_data: MergeChoice, services: Services, bot: Bot) -> None:
    done = await services.merges.merge(query.from_user.id, callback_data.merchant_id)
    await query.answer()
    if isinstance(query.message, Message):
        await best_effort(query.message.edit_text(merged_text(done.preview)))
    await publish_menu(bot, query.from_user.id, await services.merchants.menu(query.from_user.id))


async def drop_merge(query: CallbackQuery, services: Services) -> None:
    await services.merges.candidates(query.from_user.id)  # an owner's tap: anyone else learns nothing
    await query.answer()
    if isinstance(query.message, Message):
        await best_effort(query.message.edit_text(_("Cancelled. Nothing was changed.")))


async def ask_export(message: Message, event_from_user: User, services: Services) -> None:
    """/export asks which stretch of the ledger to cover (or says the shop's export is on its way)."""
    text, markup = export_question(await services.exports.ask(event_from_user.id))
    await message.answer(text, reply_markup=markup)


async def start_export(
    query: CallbackQuery,
    callback_data: ExportChoice,
    services: Services,
    bot: Bot,
    background: Background,
    i18n: KartuI18n,
) -> None:
    """The period chosen: the export starts beside the chat (which stays free: a second tap hears
    it is on its way) and its files arrive as they are written."""
    job = await services.exports.start(query.from_user.id, callback_data.run, callback_data.period)
    await query.answer()
    if isinstance(query.message, Message):
        await best_effort(query.message.edit_text(export_preparing(job.period)))
    background.start(
        deliver_export(bot, services, job, query.from_user.id, i18n.current_locale),
        "export",
        job.run_id,
    )


async def deliver_export(bot: Bot, services: Services, job: ExportJob, chat_id: int, locale: str) -> None:
    """Write the files a page at a time into a temporary folder, send each (zipped parts past
    Telegram's 50 MB), and the last word with the download link. A failure is logged once and
    the owner told to ask again; the files never outlive the sending."""
    metrics = services.health.metrics
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="kartu-export-") as folder:
            files = ExportFiles(Path(folder), job.slug, job.timezone, export_words(), PART_LIMIT)
            try:
                counts = await services.exports.write(job, files)
            finally:
                written = await asyncio.to_thread(files.close)
            for file in written:
                await services.exports.touch(job)  # a big file's upload takes a while
                parts = sum(1 for other in written if other.table == file.table)
                since = job.since if file.table == "ledger" else None
                await bot.send_document(
                    chat_id,
                    FSInputFile(file.path, filename=file.name),
                    caption=export_caption(file, parts, since, job.timezone, locale),
                )
        await services.exports.finish(job, counts, len(written))
        split = tuple(sorted({file.table for file in written if file.part}))
        link = await services.exports.link(job) if split else None
        await bot.send_message(chat_id, export_done(counts.members, counts.entries, split, link))
        metrics.exports.labels("done").inc()
        if link:
            metrics.exports.labels("link").inc()
        metrics.export_seconds.observe(time.monotonic() - started)
    except asyncio.CancelledError:  # the process stops: the owner hears it and may ask again
        metrics.exports.labels("interrupted").inc()
        await _export_failed(bot, services, job, chat_id)
        raise
    except Exception:
        log.exception("export %s of shop %s failed", job.run_id, job.merchant_id)
        metrics.exports.labels("failed").inc()
        await _export_failed(bot, services, job, chat_id)


async def _export_failed(bot: Bot, services: Services, job: ExportJob, chat_id: int) -> None:
    try:
        await services.exports.fail(job)
        await bot.send_message(chat_id, export_failed())
    except Exception as error:  # the database or Telegram is what failed: the run goes stale
        log.warning("could not tell about the failed export %s: %s", job.run_id, error)


def router() -> Router:
    owner = Router(name="owner")
    owner.message.register(cancel_form, Command("cancel"), StateFilter(ProgramForm, KindsForm))
    owner.message.register(show_team, Command("staff", "team"))
    owner.message.register(show_team, MenuButton(MENU_TEAM))
    owner.message.register(show_program, Command("program"))
    owner.message.register(show_program, MenuButton(MENU_PROGRAM))
    owner.message.register(send_join_link, Command("link", "qr"))
    owner.message.register(send_join_link, MenuButton(MENU_LINK))
    owner.message.register(show_stats, MenuButton(MENU_STATS))
    owner.message.register(show_feedback, Command("feedback"))
    owner.message.register(show_stats, Command("stats"))
    owner.message.register(ask_export, Command("export"))
    owner.message.register(ask_merge, Command("merge", "gabungkan"))
    owner.callback_query.register(show_merge, MergeChoice.filter(F.step == MergeStep.PREVIEW))
    owner.callback_query.register(do_merge, MergeChoice.filter(F.step == MergeStep.MERGE))
    owner.callback_query.register(drop_merge, MergeChoice.filter(F.step == MergeStep.DROP))
    owner.callback_query.register(start_export, ExportChoice.filter())
    owner.callback_query.register(invite, TeamAction.filter(F.action.in_(set(INVITED))))
    owner.callback_query.register(ask_to_remove, TeamAction.filter(F.action == TeamStep.REMOVE))
    owner.callback_query.register(remove, TeamAction.filter(F.action == TeamStep.REMOVE_CONFIRMED))
    owner.callback_query.register(unlock, TeamAction.filter(F.action == TeamStep.UNLOCK))
    owner.callback_query.register(show_team_again, TeamAction.filter(F.action == TeamStep.LIST))
    owner.callback_query.register(ask_setting, ProgramField.filter())
    owner.callback_query.register(choose_kinds, KindsChoice.filter())
    owner.callback_query.register(confirm_kinds, KindsConfirm.filter())
    owner.message.register(
        rate_typed, StateFilter(KindsForm.rate), OnLoop(F.text), OnLoop(~F.text.startswith("/"))
    )
    owner.callback_query.register(save_change, ProgramConfirm.filter(F.choice == SaveChoice.SAVE))
    owner.callback_query.register(keep_program, ProgramConfirm.filter(F.choice == SaveChoice.KEEP))
    owner.message.register(
        receive_setting, StateFilter(ProgramForm.value), OnLoop(F.text), OnLoop(~F.text.startswith("/"))
    )
    owner.message.register(setting_not_text, StateFilter(ProgramForm.value), OnLoop(~F.text))
    return owner
