"""Customers: join, see the card, the personal code and rewards."""

from __future__ import annotations

import json
import logging

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from aiogram.utils.keyboard import InlineKeyboardBuilder

from kartu.bot.i18n import KartuI18n
from kartu.handlers.callbacks import DataAction, SurveyAnswer, SurveyReason
from kartu.handlers.common import profile_of
from kartu.handlers.filters import MenuButton
from kartu.handlers.menus import answer_with_menu
from kartu.loyalty.codes import format_code
from kartu.loyalty.feedback import COMMENT_MAX
from kartu.loyalty.staff import Role
from kartu.presenters.common import confirm_cancel
from kartu.presenters.customer import REASON_LABELS, card_caption, card_photo, progress_line, qr_photo, reward_lines
from kartu.presenters.format import html, join_html
from kartu.presenters.menus import MENU_CARD, MENU_CLAIM, MENU_CODE, MENU_REWARDS
from kartu.presenters.staff import claim_request
from kartu.services.container import Services

log = logging.getLogger(__name__)


async def start(message: Message, command: CommandObject, services: Services, bot: Bot) -> None:
    outcome = await services.customers.start(profile_of(message), command.args)
    if outcome.invite is not None:
        if outcome.invite.role == Role.OWNER:
            text = _("Welcome, owner of <b>{shop}</b>! Use /link for your customers' join link and QR, /staff to invite your team and /program to set up your card.")
        else:
            text = _("You are now staff at <b>{shop}</b>. Send a customer's code to give stamps. /help shows how.")
        parts = [html(text, shop=outcome.invite.merchant_name)]
        if outcome.invite.still_acting_for:
            parts.append(html(_("You still act for <b>{shop}</b>. Send /shop to switch between your shops."), shop=outcome.invite.still_acting_for))
        await answer_with_menu(message, bot, join_html("\n\n", parts), await services.merchants.menu(message.chat.id))
        return
    if outcome.joined is None:
        await message.answer(join_html("\n\n", [
            html(_("Hello! I keep your loyalty cards. Open your shop's link or scan its QR code to join.")),
            html(_("Setting up a shop? Your Telegram user id is <code>{id}</code>: the operator needs it for `kartu merchant create`."),
                 id=str(message.from_user.id) if message.from_user else "?"),
        ]))
        return
    card = outcome.joined.card
    greeting = (
        _("Welcome to <b>{shop}</b>, {first_name}! Your stamp card is ready.")
        if outcome.joined.newly_joined
        else _("Welcome back to <b>{shop}</b>, {first_name}!")
    )
    text = join_html(
        "\n\n",
        [
            html(greeting, shop=card.merchant_name, first_name=outcome.joined.first_name),
            *([html(_("You will get reminders and offers again. Send /stop to turn them off."))] if outcome.joined.opted_in_again else []),
            html(
                _("Show your code <code>{code}</code> when you pay: each purchase earns a stamp. {progress}"),
                code=format_code(card.personal_code), progress=progress_line(card),
            ),
            html(_("Tap a button below, or send /help.")),
        ],
    )
    await answer_with_menu(message, bot, text, await services.merchants.menu(message.chat.id, as_customer=True))


async def show_card(message: Message, services: Services, i18n: KartuI18n) -> None:
    card = await services.customers.card(message.from_user.id)  # type: ignore[union-attr]
    await message.answer_photo(await card_photo(card), caption=card_caption(card, i18n.current_locale))


async def show_code(message: Message, services: Services) -> None:
    card = await services.customers.card(message.from_user.id)  # type: ignore[union-attr]  # the code comes with its shop
    code = format_code(card.personal_code)
    await message.answer(html(_("Your code at <b>{shop}</b>: <code>{code}</code>"), shop=card.merchant_name, code=code))
    await message.answer_photo(await qr_photo(card.personal_code, card.merchant_name),
                               caption=_("Show this QR code or tell the code to staff when you pay."))


async def show_rewards(message: Message, services: Services, i18n: KartuI18n) -> None:
    rewards = await services.customers.rewards(message.from_user.id)  # type: ignore[union-attr]
    await message.answer(reward_lines(rewards, i18n.current_locale))


class FeedbackForm(StatesGroup):
    comment = State()


async def stop_promotions(message: Message, services: Services) -> None:
    shop = await services.customers.stop_promotions(message.from_user.id)  # type: ignore[union-attr]
    if shop is not None:
        await message.answer(html(
            _("Done: no more reminders, surveys or offers from {shop}. You still get messages about your own purchases. Send /start to turn them back on."),
            shop=shop,
        ))
    else:
        await message.answer(_("You have not joined a shop yet. Open your shop's link or scan its QR code to join."))


async def rate_visit(query: CallbackQuery, callback_data: SurveyAnswer, services: Services, state: FSMContext) -> None:
    if callback_data.rating == 0:
        await services.feedback.comment(query.from_user.id, callback_data.survey_id, None)
        await state.clear()
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.edit_text(_("Thank you for your feedback!"))
        return
    result = await services.feedback.rate(query.from_user.id, callback_data.survey_id, callback_data.rating)
    await query.answer(_("Thank you!"))
    await state.set_state(FeedbackForm.comment)
    await state.update_data(survey_id=callback_data.survey_id)
    skip = InlineKeyboardBuilder()
    if result.low:
        for reason, label in REASON_LABELS.items():
            skip.button(text=_(label), callback_data=SurveyReason(survey_id=callback_data.survey_id, reason=reason))
    skip.button(text=_("No comment"), callback_data=SurveyAnswer(survey_id=callback_data.survey_id, rating=0))
    skip.adjust(2)
    question = (
        _("We are sorry it was not great. What went wrong? Your message goes straight to the team.")
        if result.low
        else _("Thanks! Anything you would like to tell us? Send a message, or tap No comment.")
    )
    if isinstance(query.message, Message):
        await query.message.edit_text(question, reply_markup=skip.as_markup())


async def pick_reason(query: CallbackQuery, callback_data: SurveyReason, services: Services) -> None:
    await services.feedback.give_reason(query.from_user.id, callback_data.survey_id, callback_data.reason)
    await query.answer(_("Thank you!"))
    skip = InlineKeyboardBuilder()
    skip.button(text=_("No comment"), callback_data=SurveyAnswer(survey_id=callback_data.survey_id, rating=0))
    if isinstance(query.message, Message):
        await query.message.edit_text(_("Thank you. Anything else the team should know? Send a message, or tap No comment."), reply_markup=skip.as_markup())


async def leave_comment(message: Message, services: Services, state: FSMContext) -> None:
    survey_id = (await state.get_data()).get("survey_id", 0)
    await state.clear()
    await services.feedback.comment(message.from_user.id, survey_id, (message.text or "")[:COMMENT_MAX])  # type: ignore[union-attr]
    await message.answer(_("Thank you for your feedback!"))


async def claim_purchase(message: Message, services: Services, bot: Bot, i18n: KartuI18n, command: CommandObject | None = None) -> None:
    claim = await services.claims.open_claim(message.from_user.id, command.args if command else None)  # type: ignore[union-attr]
    if not claim.staff:
        await message.answer(_("Nobody at the shop can confirm purchases in the chat right now. Please show your code at the counter."))
        return
    notices = []
    for staff in claim.staff:
        with i18n.use_locale(staff.language):
            text, markup = claim_request(claim)
        try:
            sent = await bot.send_message(staff.telegram_id, text, reply_markup=markup)
        except TelegramAPIError as error:
            log.warning("could not show claim %s to %s: %s", claim.claim_id, staff.telegram_id, error)
            continue
        notices.append((staff.telegram_id, sent.message_id, staff.language))
    await services.claims.record_notices(claim.claim_id, notices)
    await message.answer(_("Thanks! Staff will confirm your purchase in a moment."))


async def send_my_data(message: Message, services: Services) -> None:
    data = await services.customers.my_data(message.from_user.id)  # type: ignore[union-attr]
    body = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
    await message.answer_document(
        BufferedInputFile(body, filename="kartu-my-data.json"),
        caption=_("Everything Kartu keeps about you. /leave leaves one shop; /forget erases your personal data."),
    )


async def ask_to_leave(message: Message, services: Services) -> None:
    preview = await services.customers.leaving(message.from_user.id)  # type: ignore[union-attr]
    await message.answer(
        html(_("Leave <b>{shop}</b>? {what} there will be gone, and the shop will no longer see you as a member or message you. "
               "Other shops are not affected."),
             shop=preview.merchant_name,
             what=join_html(" ", [
                 html(ngettext("Your {count} stamp", "Your {count} stamps", preview.stamps), count=preview.stamps),
                 html(ngettext("and {count} unused reward", "and {count} unused rewards", preview.open_rewards), count=preview.open_rewards),
             ])),
        reply_markup=confirm_cancel(DataAction(action="leave", merchant_id=preview.merchant_id).pack(), DataAction(action="keep").pack()),
    )


async def ask_to_forget(message: Message) -> None:
    await message.answer(
        _("Erase your personal data? Your name, username, language, code and comments are removed, every card closes "
          "(stamps and rewards are gone) and shops no longer see you. The shops keep anonymous records of past purchases "
          "so their books add up. This cannot be undone."),
        reply_markup=confirm_cancel(DataAction(action="forget").pack(), DataAction(action="keep").pack()),
    )


async def decide_data_action(query: CallbackQuery, callback_data: DataAction, services: Services, state: FSMContext) -> None:
    """Each of these acts on the person who taps, and nobody else."""
    if callback_data.action == "leave":
        shop = await services.customers.leave(query.from_user.id, callback_data.merchant_id)
        text = html(_("You left <b>{shop}</b>. Open its link again any time to start a new card."), shop=shop)
    elif callback_data.action == "forget":
        await services.customers.forget(query.from_user.id)
        await state.clear()
        text = html(_("Done: your personal data is erased. If you write to me again, I will treat you as someone new."))
    else:
        text = html(_("Nothing was changed."))
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(text)


def router() -> Router:
    customer = Router(name="customer")
    customer.message.register(send_my_data, Command("mydata"))
    customer.message.register(ask_to_leave, Command("leave"))
    customer.message.register(ask_to_forget, Command("forget"))
    customer.callback_query.register(decide_data_action, DataAction.filter())
    customer.message.register(start, CommandStart())
    customer.message.register(show_card, Command("card"))
    customer.message.register(show_card, MenuButton(MENU_CARD))
    customer.message.register(show_code, Command("code"))
    customer.message.register(show_code, MenuButton(MENU_CODE))
    customer.message.register(show_rewards, Command("rewards"))
    customer.message.register(show_rewards, MenuButton(MENU_REWARDS))
    customer.message.register(stop_promotions, Command("stop"))
    customer.message.register(claim_purchase, Command("claim"))
    customer.message.register(claim_purchase, MenuButton(MENU_CLAIM))
    customer.callback_query.register(rate_visit, SurveyAnswer.filter())
    customer.callback_query.register(pick_reason, SurveyReason.filter())
    customer.message.register(leave_comment, FeedbackForm.comment, F.text, ~F.text.startswith("/"))
    return customer


