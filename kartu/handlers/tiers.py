"""Levels: the owner's /tiers screen and form, a group the bot was made admin of, and the door of a
level's group (someone joining without the level is taken out again)."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import (
    ADMINISTRATOR,
    JOIN_TRANSITION,
    KICKED,
    LEFT,
    MEMBER,
    PROMOTED_TRANSITION,
    RESTRICTED,
    ChatMemberUpdatedFilter,
    Command,
    StateFilter,
)
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, ChatMemberUpdated, Message, User
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from kartu.bot.groups import one_person_link, take_out
from kartu.bot.i18n import KartuI18n
from kartu.handlers.common import best_effort, cancel_form
from kartu.handlers.filters import OnLoop
from kartu.handlers.guided import Screen, Spec, answered_on_screen, ask_on_screen, open_form, register
from kartu.handlers.states import TierForm
from kartu.presenters.callbacks import GroupInvite, TierAction, TierStep, VipLink
from kartu.presenters.guided import Guided
from kartu.presenters.tiers import (
    delete_level_question,
    group_added_text,
    group_link_text,
    level_field_text,
    level_form,
    level_text,
    tier_question,
    tiers_text,
)
from kartu.services.container import Services
from kartu.services.tiers import TiersView

log = logging.getLogger(__name__)


async def show_tiers(message: Message, event_from_user: User, services: Services, state: FSMContext) -> None:
    await state.clear()
    text, markup = tiers_text(await services.tiers.levels(event_from_user.id))
    await message.answer(text, reply_markup=markup)


async def tier_action(
    query: CallbackQuery, callback_data: TierAction, services: Services, state: FSMContext
) -> None:
    owner, tier_id, step = query.from_user.id, callback_data.tier_id, callback_data.action
    if not isinstance(query.message, Message):
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    screen = query.message
    match step:
        case TierStep.LIST:
            await state.clear()
            text, markup = tiers_text(await services.tiers.levels(owner))
        case TierStep.OPEN:
            await state.clear()
            view = await services.tiers.levels(owner)
            text, markup = level_text(await services.tiers.level(owner, tier_id), view.basis)
        case TierStep.DELETE:
            text, markup = delete_level_question(await services.tiers.level(owner, tier_id))
        case TierStep.DELETE_CONFIRMED:
            text, markup = tiers_text(await services.tiers.delete(owner, tier_id))
        case TierStep.BASIS:
            text, markup = tiers_text(await services.tiers.toggle_basis(owner))
        case TierStep.ADD | TierStep.EDIT:
            await open_form(query, state, services, "level", tier_id if step == TierStep.EDIT else 0)
            return
        case _:  # one setting: perks, the window, the grace period
            view = await services.tiers.levels(owner)  # the owner check, before the form opens
            back = TierAction(action=TierStep.LIST).pack()
            if step == TierStep.PERKS:
                await services.tiers.level(owner, tier_id)
                back = TierAction(action=TierStep.OPEN, tier_id=tier_id).pack()
            question = tier_question(step, view.basis)
            await ask_on_screen(query, state, TierForm.value, question, back, step=str(step), tier_id=tier_id)
            return
    await query.answer()
    await best_effort(screen.edit_text(text, reply_markup=markup))


async def tier_typed(
    message: Message, event_from_user: User, services: Services, state: FSMContext, bot: Bot
) -> None:
    """One setting of /tiers; refused values are answered and asked again (the form stays)."""
    data, owner, typed = await state.get_data(), event_from_user.id, message.text or ""
    step, tier_id = TierStep(str(data.get("step", TierStep.WINDOW))), int(data.get("tier_id", 0))
    view: TiersView
    match step:
        case TierStep.PERKS:
            view = await services.tiers.set_perks(owner, tier_id, typed)
            screen = level_text(await services.tiers.level(owner, tier_id), view.basis)
            await answered_on_screen(message, bot, state, screen)
            return
        case TierStep.GRACE:
            view = await services.tiers.set_grace(owner, typed)
        case _:
            view = await services.tiers.set_window(owner, typed)
    await answered_on_screen(message, bot, state, tiers_text(view))


# --- a level's guided form: new, or changed ------------------------------------------------------


async def _level_form(services: Services, owner: int, subject: int) -> Guided:
    return level_form(await services.tiers.level_form(owner, subject))


async def _level_check(
    services: Services, owner: int, field: str, text: str, answers: Mapping[str, str], subject: int
) -> tuple[str, str]:
    value = await services.tiers.check_level_field(owner, field, text)
    basis = (await services.tiers.levels(owner)).basis
    return text, level_field_text(field, value, basis)


async def _level_save(services: Services, owner: int, answers: Mapping[str, str], subject: int) -> Screen:
    view = await services.tiers.save_level(
        owner, subject, answers["name"], answers["threshold"], answers.get("multiplier", "")
    )
    return tiers_text(view)


async def _tiers_screen(services: Services, owner: int, subject: int) -> Screen:
    return tiers_text(await services.tiers.levels(owner))


register("level", Spec(_level_form, _level_check, _level_save, _tiers_screen))


async def link_group(query: CallbackQuery, callback_data: VipLink, services: Services) -> None:
    view = await services.tiers.link_group(query.from_user.id, callback_data.group_id, callback_data.tier_id)
    await query.answer(_("Saved."))
    if isinstance(query.message, Message):
        text, markup = tiers_text(view)
        await best_effort(query.message.edit_text(text, reply_markup=markup))


async def open_group(query: CallbackQuery, callback_data: GroupInvite, services: Services, bot: Bot) -> None:
    """A member's fresh invite to their level's group (the one in their level news may have lapsed)."""
    chat_id = await services.tiers.group_for(query.from_user.id, callback_data.tier_id)
    try:
        link = await one_person_link(bot, chat_id, query.from_user.id, services.tiers.clock.now())
    except TelegramAPIError as error:
        log.warning("could not invite %s to group %s: %s", query.from_user.id, chat_id, error)
        await query.answer(
            _("The group cannot take new members right now. Please try again later."), show_alert=True
        )
        return
    await query.answer()
    if isinstance(query.message, Message):
        builder = InlineKeyboardBuilder()
        builder.button(text=_("🔑 Open the invite"), url=link)
        await query.message.answer(group_link_text(), reply_markup=builder.as_markup())


# --- the groups ----------------------------------------------------------------------------------


async def bot_promoted(event: ChatMemberUpdated, services: Services, bot: Bot, i18n: KartuI18n) -> None:
    """An owner made the bot an admin of a group: ask them (in private) which level opens it.
    Anyone else: nothing happens (the group stays a group Kartu does not manage)."""
    added = await services.tiers.group_added(event.from_user.id, event.chat.id, event.chat.title or "")
    if added is None:
        return
    with i18n.use_locale(added.language):
        text, markup = group_added_text(added)
    try:
        await bot.send_message(added.owner_telegram_id, text, reply_markup=markup)
    except TelegramAPIError as error:
        log.warning(
            "could not ask owner %s about group %s: %s", added.owner_telegram_id, event.chat.id, error
        )


async def bot_demoted(event: ChatMemberUpdated, services: Services) -> None:
    await services.tiers.group_lost(event.chat.id)


async def someone_joined(event: ChatMemberUpdated, services: Services, bot: Bot) -> None:
    """Nobody joins a level's group without the level: a forwarded link is of no use."""
    user = event.new_chat_member.user
    if user.is_bot or await services.tiers.may_join(event.chat.id, user.id):
        return
    log.info("user %s joined level group %s without the level: removed", user.id, event.chat.id)
    try:
        await take_out(bot, event.chat.id, user.id)
    except TelegramAPIError as error:
        log.warning("could not remove %s from group %s: %s", user.id, event.chat.id, error)


def router() -> Router:
    tiers = Router(name="tiers")
    tiers.message.register(cancel_form, Command("cancel"), StateFilter(TierForm))
    tiers.message.register(show_tiers, Command("tiers", "levels", "level"))
    tiers.callback_query.register(tier_action, TierAction.filter())
    tiers.callback_query.register(link_group, VipLink.filter())
    tiers.callback_query.register(open_group, GroupInvite.filter())
    tiers.message.register(
        tier_typed, StateFilter(TierForm.value), OnLoop(F.text), OnLoop(~F.text.startswith("/"))
    )
    tiers.my_chat_member.register(bot_promoted, ChatMemberUpdatedFilter(PROMOTED_TRANSITION))
    tiers.my_chat_member.register(
        bot_demoted, ChatMemberUpdatedFilter(ADMINISTRATOR >> (MEMBER | RESTRICTED | LEFT | KICKED))
    )
    tiers.chat_member.register(someone_joined, ChatMemberUpdatedFilter(JOIN_TRANSITION))
    return tiers
