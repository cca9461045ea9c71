"""Customers: join, see the card, the personal code and rewards."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject, CommandStart, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, Message, User
from aiogram.utils.i18n import gettext as _

from kartu.bot.i18n import KartuI18n
from kartu.bot.uploads import uploads_of
from kartu.handlers.common import best_effort, cancel_form, profile_of
from kartu.handlers.filters import MenuButton, OnLoop
from kartu.handlers.menus import answer_with_menu
from kartu.handlers.points import rewards_screen
from kartu.handlers.states import FeedbackForm, MissingStampForm
from kartu.loyalty.channels import Channel
from kartu.loyalty.feedback import COMMENT_MAX
from kartu.loyalty.links import LinkKind, parse_payload
from kartu.presenters.callbacks import (
    ClaimOutlet,
    DataAction,
    DataStep,
    MissingStamp,
    SurveyAnswer,
    SurveyReason,
    WhyChange,
)
from kartu.presenters.customer import (
    card_caption,
    card_photo,
    code_text,
    comment_question,
    forget_question,
    invite_welcome,
    join_welcome,
    leave_question,
    missing_day_question,
    opted_out_text,
    qr_photo,
    reason_followup,
    receipt_claimed,
    receipt_photo_question,
    stranger_greeting,
    whatsapp_link_offer,
    whatsapp_off,
    why_text,
    with_card_app,
    with_missing_stamp,
)
from kartu.presenters.format import HTML, html, join_html
from kartu.presenters.menus import CLAIM_BUTTONS, MENU_CARD, MENU_CODE, MENU_REWARDS
from kartu.presenters.screens import telegram
from kartu.presenters.staff import claim_outlet_question, claim_request
from kartu.presenters.tiers import group_buttons
from kartu.services.claims import ClaimView
from kartu.services.container import Services

if TYPE_CHECKING:
    from kartu.scheduler.dispatcher import OutboxDispatcher

log = logging.getLogger(__name__)


async def start(
    message: Message,
    command: CommandObject,
    event_from_user: User,
    services: Services,
    bot: Bot,
    courier: OutboxDispatcher,
) -> None:
    link = parse_payload(command.args)
    if link is not None and link.kind is LinkKind.RECEIPT:
        claim = await services.customers.claim_receipt(profile_of(event_from_user), link.value)
        menu = await services.merchants.menu(event_from_user.id, as_customer=True)
        await answer_with_menu(message, bot, receipt_claimed(claim), menu)
        await courier.deliver_taken(claim.result.taken, claim.result.notices)  # the card, as after any sale
        return
    outcome = await services.customers.start(profile_of(event_from_user), command.args)
    if outcome.invite is not None:
        await answer_with_menu(
            message, bot, invite_welcome(outcome.invite), await services.merchants.menu(event_from_user.id)
        )
    elif outcome.joined is None:
        await message.answer(stranger_greeting(event_from_user.id))
    else:
        menu = await services.merchants.menu(event_from_user.id, as_customer=True)
        await answer_with_menu(message, bot, join_welcome(outcome.joined), menu)


async def show_card(
    message: Message, event_from_user: User, services: Services, i18n: KartuI18n, bot: Bot
) -> None:
    card = await services.customers.card(event_from_user.id)
    caption = card_caption(card, i18n.current_locale)
    markup = with_card_app(
        with_missing_stamp(group_buttons(card.groups), card.runs_stamps), i18n.current_locale
    )
    if not card.runs_stamps:  # points only: the code to show, with the balance
        photo = await qr_photo(card.personal_code, card.merchant_name)
        await message.answer_photo(photo, caption=caption, reply_markup=markup)
        return
    picture = await card_photo(card)
    await uploads_of(bot).send(
        picture.key,
        picture.file,
        lambda sent: message.answer_photo(sent, caption=caption, reply_markup=markup),
    )


async def show_code(message: Message, event_from_user: User, services: Services) -> None:
    """The code and its QR in one message: nothing of the answer can arrive without the rest."""
    card = await services.customers.card(event_from_user.id)  # the code comes with its shop
    await message.answer_photo(
        await qr_photo(card.personal_code, card.merchant_name), caption=code_text(card)
    )


async def show_rewards(message: Message, event_from_user: User, services: Services, i18n: KartuI18n) -> None:
    text, markup = telegram(await rewards_screen(event_from_user.id, services, i18n.current_locale))
    await message.answer(text, reply_markup=markup)


async def stop_promotions(message: Message, event_from_user: User, services: Services) -> None:
    await message.answer(opted_out_text(await services.customers.stop_promotions(event_from_user.id)))


async def rate_visit(
    query: CallbackQuery, callback_data: SurveyAnswer, services: Services, state: FSMContext
) -> None:
    if callback_data.rating == 0:  # "No comment"
        await services.feedback.comment(query.from_user.id, callback_data.survey_id, None)
        await state.clear()
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.edit_text(_("Thank you for your feedback!"))
        return
    result = await services.feedback.rate(query.from_user.id, callback_data.survey_id, callback_data.rating)
    # The form is open before the tap is answered: a comment typed the moment "Thank you!"
    # shows belongs to this survey.
    await state.set_state(FeedbackForm.comment)
    await state.set_data({"survey_id": callback_data.survey_id})
    await query.answer(_("Thank you!"))
    if isinstance(query.message, Message):
        question, markup = comment_question(callback_data.survey_id, result.low)
        await query.message.edit_text(question, reply_markup=markup)


async def pick_reason(query: CallbackQuery, callback_data: SurveyReason, services: Services) -> None:
    await services.feedback.give_reason(query.from_user.id, callback_data.survey_id, callback_data.reason)
    await query.answer(_("Thank you!"))
    if isinstance(query.message, Message):
        question, markup = reason_followup(callback_data.survey_id)
        await query.message.edit_text(question, reply_markup=markup)


async def leave_comment(
    message: Message, event_from_user: User, services: Services, state: FSMContext
) -> None:
    survey_id = (await state.get_data()).get("survey_id", 0)
    await state.clear()
    await services.feedback.comment(event_from_user.id, survey_id, (message.text or "")[:COMMENT_MAX])
    await message.answer(_("Thank you for your feedback!"))


async def claim_purchase(
    message: Message,
    event_from_user: User,
    services: Services,
    bot: Bot,
    i18n: KartuI18n,
    command: CommandObject | None = None,
) -> None:
    claim = await services.claims.open_claim(event_from_user.id, command.args if command else None)
    if claim.outlets:  # a business with several outlets: where was it?
        text, markup = claim_outlet_question(claim)
        await message.answer(text, reply_markup=markup)
        return
    await _show_claim(message, claim, bot, services, i18n)


async def place_claim(
    query: CallbackQuery, callback_data: ClaimOutlet, services: Services, bot: Bot, i18n: KartuI18n
) -> None:
    """The customer picked the outlet where they bought: that outlet's team hears of it."""
    claim = await services.claims.place_claim(
        query.from_user.id, callback_data.claim_id, callback_data.outlet_id
    )
    await best_effort(query.answer())
    if isinstance(query.message, Message):
        await best_effort(query.message.edit_text(html(_("🧾 At {outlet}."), outlet=claim.outlet_name or "")))
        await _show_claim(query.message, claim, bot, services, i18n)


async def explain_change(
    query: CallbackQuery, callback_data: WhyChange, services: Services, i18n: KartuI18n
) -> None:
    """❓ Why? under a card's news: the purchase and all it changed, as a message of its own."""
    why = await services.customers.why(query.from_user.id, callback_data.news_id)
    await best_effort(query.answer())
    if isinstance(query.message, Message):
        await query.message.answer(why_text(why, i18n.current_locale))


async def _show_claim(
    message: Message, claim: ClaimView, bot: Bot, services: Services, i18n: KartuI18n
) -> None:
    """Show the claim to the staff who should decide it, and tell the customer it went."""
    if not claim.staff:
        await message.answer(
            _(
                "Nobody at the shop can confirm purchases in the chat right now. Please show your code at the counter."
            )
        )
        return
    notices = []
    for staff in claim.staff:
        if staff.telegram_id is None:  # staff are on Telegram
            continue
        with i18n.use_locale(staff.language):
            text, markup = claim_request(claim)
        try:
            if claim.photo is not None:  # a missing stamp: its receipt first, the question under it
                await bot.send_photo(staff.telegram_id, claim.photo)
            sent = await bot.send_message(staff.telegram_id, text, reply_markup=markup)
        except TelegramAPIError as error:
            log.warning("could not show claim %s to %s: %s", claim.claim_id, staff.telegram_id, error)
            continue
        notices.append((staff.telegram_id, sent.message_id, staff.language))
    await services.claims.record_notices(claim.claim_id, notices)
    if claim.visit_day is not None:
        await message.answer(_("Thanks! Staff will look at your receipt; their answer comes here."))
        return
    await message.answer(_("Thanks! Staff will confirm your purchase in a moment."))


async def ask_missing_day(query: CallbackQuery, services: Services, i18n: KartuI18n) -> None:
    """🧾 Missing a stamp? under /card: which visit (today or the week before)."""
    days = await services.claims.missing_days(query.from_user.id)
    await best_effort(query.answer())
    if isinstance(query.message, Message):
        text, markup = missing_day_question(days, i18n.current_locale)
        await query.message.answer(text, reply_markup=markup)


async def pick_missing_day(
    query: CallbackQuery, callback_data: MissingStamp, services: Services, state: FSMContext, i18n: KartuI18n
) -> None:
    """The visit's day is picked: now its receipt's photo."""
    days = await services.claims.missing_days(query.from_user.id)  # a member's tap, of a stamp card
    await state.set_state(MissingStampForm.photo)
    await state.update_data(days_ago=callback_data.days_ago)
    await best_effort(query.answer())
    if isinstance(query.message, Message):
        await query.message.answer(receipt_photo_question(days[callback_data.days_ago], i18n.current_locale))


async def receipt_photo(
    message: Message, event_from_user: User, services: Services, state: FSMContext, bot: Bot, i18n: KartuI18n
) -> None:
    """The receipt's photo: the missing stamp goes to staff (after where, in a business with several outlets)."""
    days_ago = int((await state.get_data()).get("days_ago", 0))
    await state.clear()
    assert message.photo  # the filter
    claim = await services.claims.open_dispute(event_from_user.id, days_ago, message.photo[-1].file_id)
    if claim.outlets:
        text, markup = claim_outlet_question(claim)
        await message.answer(text, reply_markup=markup)
        return
    await _show_claim(message, claim, bot, services, i18n)


async def receipt_not_photo(message: Message) -> None:
    await message.answer(_("Please send a photo of the receipt (📎 → Photo), or /cancel."))


async def send_my_data(message: Message, event_from_user: User, services: Services) -> None:
    data = await services.customers.my_data(event_from_user.id)
    body = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
    await message.answer_document(
        BufferedInputFile(body, filename="kartu-my-data.json"),
        caption=_(
            "Everything Kartu keeps about you. /leave leaves one shop; /forget erases your personal data."
        ),
    )


async def link_whatsapp(message: Message, event_from_user: User, services: Services) -> None:
    """/whatsapp: a one-time code to type on WhatsApp, where the same cards show too."""
    settings = services.customers.settings
    if not (settings.whatsapp_phone_number_id and settings.whatsapp_number):
        await message.answer(whatsapp_off())
        return
    code = await services.customers.link_code(event_from_user.id, Channel.WHATSAPP)
    text, markup = telegram(whatsapp_link_offer(code, settings.whatsapp_number))
    await message.answer(text, reply_markup=markup)


async def ask_to_leave(message: Message, event_from_user: User, services: Services) -> None:
    text, markup = telegram(leave_question(await services.customers.leaving(event_from_user.id)))
    await message.answer(text, reply_markup=markup)


async def ask_to_forget(message: Message) -> None:
    text, markup = telegram(forget_question())
    await message.answer(text, reply_markup=markup)


async def _settle(query: CallbackQuery, text: str) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(text)


async def _cancel_subscriptions(query: CallbackQuery, bot: Bot, charges: list[str]) -> bool:
    """Telegram stops renewing the person's Stars subscriptions before their card goes (else they
    would be charged for a membership Kartu no longer knows); ``False`` (and they are told, nothing
    changed) when Telegram did not."""
    for charge_id in charges:
        try:
            await bot.edit_user_star_subscription(
                user_id=query.from_user.id, telegram_payment_charge_id=charge_id, is_canceled=True
            )
        except TelegramAPIError as error:
            log.warning(
                "could not cancel the subscription %s of %s: %s", charge_id, query.from_user.id, error
            )
            await query.answer(
                _(
                    "Telegram could not cancel your Stars subscription just now, so nothing was changed. Please try again in a moment."
                ),
                show_alert=True,
            )
            return False
    return True


def _with_cancelled(text: HTML, charges: list[str]) -> HTML:
    if not charges:
        return text
    return join_html(
        "\n", [text, html(_("Your paid membership is cancelled with Telegram: it will not renew."))]
    )


# Each of these acts on the person who taps, and nobody else.
async def leave_shop(query: CallbackQuery, callback_data: DataAction, services: Services, bot: Bot) -> None:
    charges = await services.customers.renewing_subscriptions(query.from_user.id, callback_data.merchant_id)
    if not await _cancel_subscriptions(query, bot, charges):
        return
    shop = await services.customers.leave(query.from_user.id, callback_data.merchant_id)
    left = html(_("You left <b>{shop}</b>. Open its link again any time to start a new card."), shop=shop)
    await _settle(query, _with_cancelled(left, charges))


async def forget_me(query: CallbackQuery, services: Services, state: FSMContext, bot: Bot) -> None:
    charges = await services.customers.renewing_subscriptions(query.from_user.id)
    if not await _cancel_subscriptions(query, bot, charges):
        return
    await services.customers.forget(query.from_user.id)
    await state.clear()
    done = html(
        _("Done: your personal data is erased. If you write to me again, I will treat you as someone new.")
    )
    await _settle(query, _with_cancelled(done, charges))


async def keep_data(query: CallbackQuery) -> None:
    await _settle(query, html(_("Nothing was changed.")))


def router() -> Router:
    customer = Router(name="customer")
    customer.message.register(send_my_data, Command("mydata"))
    customer.message.register(link_whatsapp, Command("whatsapp", "wa"))
    customer.message.register(ask_to_leave, Command("leave"))
    customer.message.register(ask_to_forget, Command("forget"))
    customer.callback_query.register(leave_shop, DataAction.filter(F.action == DataStep.LEAVE))
    customer.callback_query.register(forget_me, DataAction.filter(F.action == DataStep.FORGET))
    customer.callback_query.register(keep_data, DataAction.filter(F.action == DataStep.KEEP))
    customer.message.register(start, CommandStart())
    customer.message.register(show_card, Command("card"))
    customer.message.register(show_card, MenuButton(MENU_CARD))
    customer.message.register(show_code, Command("code"))
    customer.message.register(show_code, MenuButton(MENU_CODE))
    customer.message.register(show_rewards, Command("rewards"))
    customer.message.register(show_rewards, MenuButton(MENU_REWARDS))
    customer.message.register(stop_promotions, Command("stop"))
    customer.message.register(claim_purchase, Command("claim"))
    customer.message.register(claim_purchase, MenuButton(*CLAIM_BUTTONS))
    customer.callback_query.register(place_claim, ClaimOutlet.filter())
    customer.callback_query.register(explain_change, WhyChange.filter())
    customer.message.register(cancel_form, Command("cancel"), StateFilter(MissingStampForm))
    customer.callback_query.register(ask_missing_day, MissingStamp.filter(F.days_ago < 0))
    customer.callback_query.register(pick_missing_day, MissingStamp.filter(F.days_ago >= 0))
    customer.message.register(receipt_photo, StateFilter(MissingStampForm.photo), OnLoop(F.photo))
    customer.message.register(
        receipt_not_photo, StateFilter(MissingStampForm.photo), OnLoop(~F.text.startswith("/"))
    )
    customer.callback_query.register(rate_visit, SurveyAnswer.filter())
    customer.callback_query.register(pick_reason, SurveyReason.filter())
    customer.message.register(
        leave_comment, StateFilter(FeedbackForm.comment), OnLoop(F.text), OnLoop(~F.text.startswith("/"))
    )
    return customer
