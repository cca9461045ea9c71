"""Points: staff enter what a customer spent, customers spend points in the catalogue (and may give
a reward back), owners keep the catalogue and change a balance by hand."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, User
from aiogram.utils.i18n import gettext as _

from kartu.bot.i18n import KartuI18n
from kartu.handlers.common import best_effort, cancel_form
from kartu.handlers.filters import OnLoop
from kartu.handlers.guided import Screen, Spec, answered_on_screen, ask_on_screen, open_form, register
from kartu.handlers.staff import ask_amount, bare_code
from kartu.handlers.states import AmountForm, CatalogueForm
from kartu.loyalty.channels import Caller
from kartu.loyalty.codes import normalize_code
from kartu.loyalty.errors import AmountNeeded, PointsOff
from kartu.loyalty.points import parse_item_name, parse_price
from kartu.presenters import screens
from kartu.presenters.callbacks import (
    CatalogueChoice,
    CatalogueStep,
    Decision,
    ExchangeAction,
    ItemAction,
    ItemStep,
    ReturnReward,
    SaleAction,
    ShowCatalogue,
)
from kartu.presenters.customer import points_text, reward_lines
from kartu.presenters.format import HTML
from kartu.presenters.guided import Guided
from kartu.presenters.points import (
    ITEM_FORM,
    adjusted_text,
    catalogue_admin_text,
    catalogue_text,
    delete_question,
    exchanged_text,
    item_question,
    item_text,
    offer_text,
    returned_text,
    sale_confirmed,
    sale_prompt_text,
)
from kartu.presenters.screens import telegram
from kartu.services.container import Services
from kartu.services.counter import SALE

if TYPE_CHECKING:
    from kartu.scheduler.dispatcher import OutboxDispatcher


# --- staff ---------------------------------------------------------------------------------------


def split_sale(args: str) -> tuple[str, str]:
    """``CODE 125.000``, ``K7Q2 9XHM Rp 125.000``: the code (one or two words) and the amount."""
    parts = args.split()
    for words in (1, 2):
        if len(parts) >= words and normalize_code("".join(parts[:words])) is not None:
            return "".join(parts[:words]), " ".join(parts[words:])
    return "".join(parts[:1]), " ".join(parts[1:])


async def buy_command(
    message: Message,
    command: CommandObject,
    event_from_user: User,
    services: Services,
    state: FSMContext,
    i18n: KartuI18n,
) -> None:
    code, amount = split_sale(command.args or "")
    if not code:
        await message.answer(_("Send it like this: /buy CODE 125000 (the amount the customer spent)."))
        return
    if not amount:  # the code alone: ask for the amount, as after a bare code
        try:
            await services.counter.open_purchase(event_from_user.id, code)
        except AmountNeeded as needed:
            await ask_amount(message, state, needed)
            return
        raise PointsOff()
    prompt = await services.counter.open_sale(event_from_user.id, code, amount)
    text, markup = sale_prompt_text(prompt, i18n.current_locale)
    await message.answer(text, reply_markup=markup)


async def amount_typed(
    message: Message, event_from_user: User, services: Services, state: FSMContext, i18n: KartuI18n
) -> None:
    code = (await state.get_data()).get("code")
    typed = message.text or ""
    if not isinstance(code, str):
        await state.clear()
        return
    if normalize_code(typed) is not None:  # another customer's code: start over with them
        await state.clear()
        await bare_code(message, event_from_user, services, i18n, state)
        return
    prompt = await services.counter.open_sale(event_from_user.id, code, typed)  # a bad amount: asked again
    await state.clear()
    text, markup = sale_prompt_text(prompt, i18n.current_locale)
    await message.answer(text, reply_markup=markup)


async def confirm_sale(
    query: CallbackQuery, callback_data: SaleAction, services: Services, courier: OutboxDispatcher
) -> None:
    result = await services.counter.confirm_sale(query.from_user.id, callback_data.token)
    await best_effort(query.answer(_("Confirmed.")))
    await courier.deliver_taken(result.taken, result.notices)
    if isinstance(query.message, Message):
        await best_effort(query.message.edit_text(sale_confirmed(result)))


async def cancel_sale(query: CallbackQuery, callback_data: SaleAction, services: Services) -> None:
    await services.counter.cancel_prompt(query.from_user.id, callback_data.token, SALE)
    await best_effort(query.answer(_("Cancelled.")))
    if isinstance(query.message, Message):
        await best_effort(query.message.edit_text(_("✖️ Cancelled. Nothing was added.")))


# --- customers -----------------------------------------------------------------------------------


async def rewards_screen(caller: Caller, services: Services, locale: str) -> screens.Screen:
    """The rewards the customer holds and, in a shop running points, its catalogue: one screen for
    every messenger (Telegram's chat, WhatsApp's, the card Mini App)."""
    rewards = await services.customers.rewards(caller)
    try:
        view = await services.points.catalogue(caller)
    except PointsOff:
        return screens.Screen(reward_lines(rewards, locale))
    return catalogue_text(view, rewards, locale)


async def show_rewards(message: Message, event_from_user: User, services: Services, i18n: KartuI18n) -> None:
    text, markup = telegram(await rewards_screen(event_from_user.id, services, i18n.current_locale))
    await message.answer(text, reply_markup=markup)


async def open_catalogue(query: CallbackQuery, services: Services, i18n: KartuI18n) -> None:
    text, markup = telegram(await rewards_screen(query.from_user.id, services, i18n.current_locale))
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(text, reply_markup=markup)


async def pick_item(query: CallbackQuery, callback_data: CatalogueChoice, services: Services) -> None:
    offer = await services.points.offer(query.from_user.id, callback_data.item_id)
    screen = offer_text(offer)
    text, markup = telegram(screen)
    await query.answer()
    if not isinstance(query.message, Message):
        return
    if screen.replaces:
        await best_effort(query.message.edit_text(text, reply_markup=markup))
    elif offer.photo_file_id:
        await query.message.answer_photo(offer.photo_file_id, caption=text, reply_markup=markup)
    else:
        await query.message.answer(text, reply_markup=markup)


async def _replace(message: Message, text: HTML, markup: InlineKeyboardMarkup | None = None) -> None:
    """Edit a screen in place, whether it is a text or a photo with a caption."""
    if message.photo:
        await best_effort(message.edit_caption(caption=text, reply_markup=markup))
    else:
        await best_effort(message.edit_text(text, reply_markup=markup))


async def exchange(
    query: CallbackQuery,
    callback_data: ExchangeAction,
    services: Services,
    i18n: KartuI18n,
    courier: OutboxDispatcher,
) -> None:
    if callback_data.action == CatalogueStep.BACK:
        text, markup = telegram(await rewards_screen(query.from_user.id, services, i18n.current_locale))
        await query.answer()
        if isinstance(query.message, Message):
            await _replace(query.message, text, markup)
        return
    result = await services.points.exchange(query.from_user.id, callback_data.token)
    await best_effort(query.answer(_("Done!")))
    if isinstance(query.message, Message):
        await _replace(query.message, exchanged_text(result))
    await courier.deliver_now(result.news)


async def give_back(query: CallbackQuery, callback_data: ReturnReward, services: Services) -> None:
    result = await services.points.give_back(query.from_user.id, callback_data.reward_id)
    await best_effort(query.answer(_("Given back.")))
    if isinstance(query.message, Message):
        await query.message.answer(returned_text(result))
        await best_effort(query.message.edit_reply_markup(reply_markup=None))


# --- owners --------------------------------------------------------------------------------------


async def show_catalogue(
    message: Message, event_from_user: User, services: Services, state: FSMContext
) -> None:
    await state.clear()
    text, markup = catalogue_admin_text(await services.catalogue.items(event_from_user.id))
    await message.answer(text, reply_markup=markup)


async def item_action(
    query: CallbackQuery, callback_data: ItemAction, services: Services, state: FSMContext
) -> None:
    owner, item_id, step = query.from_user.id, callback_data.item_id, callback_data.action
    if not isinstance(query.message, Message):
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    screen = query.message
    match step:
        case ItemStep.LIST:
            await state.clear()
            text, markup = catalogue_admin_text(await services.catalogue.items(owner))
        case ItemStep.ADD:
            await open_form(query, state, services, "item")
            return
        case ItemStep.OPEN:
            await state.clear()
            text, markup = item_text(await services.catalogue.item(owner, item_id))
        case ItemStep.HIDE:
            text, markup = item_text(await services.catalogue.toggle_hidden(owner, item_id))
        case ItemStep.UP:
            text, markup = catalogue_admin_text(await services.catalogue.move_up(owner, item_id))
        case ItemStep.DELETE:
            text, markup = delete_question(await services.catalogue.item(owner, item_id))
        case ItemStep.DELETE_CONFIRMED:
            await services.catalogue.delete(owner, item_id)
            text, markup = catalogue_admin_text(await services.catalogue.items(owner))
        case _:  # a field to change: the item's screen turns into its question
            await services.catalogue.item(owner, item_id)
            back = ItemAction(action=ItemStep.OPEN, item_id=item_id).pack()
            question = item_question(step)
            await ask_on_screen(
                query, state, CatalogueForm.value, question, back, item_id=item_id, field=str(step)
            )
            return
    await query.answer()
    await best_effort(screen.edit_text(text, reply_markup=markup))


async def take_item_answer(
    message: Message,
    owner_id: int,
    typed: str | None,
    photo: str | None,
    services: Services,
    state: FSMContext,
    bot: Bot,
) -> None:
    """A new value for one field of a catalogue reward (typed now, or confirmed after it looked
    like a code; a photo); the reward's screen shows it."""
    data = await state.get_data()
    field, item_id = str(data.get("field", "")), int(data.get("item_id", 0))
    value = photo if field == ItemStep.PHOTO and photo else typed
    item = await services.catalogue.change(owner_id, item_id, field, None if value in ("-", "—") else value)
    await answered_on_screen(message, bot, state, item_text(item))


async def item_answer(
    message: Message, event_from_user: User, services: Services, state: FSMContext, bot: Bot
) -> None:
    photo = message.photo[-1].file_id if message.photo else None
    await take_item_answer(message, event_from_user.id, message.text, photo, services, state, bot)


# --- a new catalogue reward's guided form --------------------------------------------------------


async def _item_form(services: Services, owner: int, subject: int) -> Guided:
    await services.catalogue.items(owner)  # the owner check (and a shop running points)
    return ITEM_FORM


async def _item_check(
    services: Services, owner: int, field: str, text: str, answers: Mapping[str, str], subject: int
) -> tuple[str, str]:
    if field == "name":
        name = parse_item_name(text)
        return name, name
    return text, points_text(parse_price(text))


async def _item_save(services: Services, owner: int, answers: Mapping[str, str], subject: int) -> Screen:
    return item_text(await services.catalogue.add(owner, answers["name"], answers["price"]))


async def _catalogue_screen(services: Services, owner: int, subject: int) -> Screen:
    return catalogue_admin_text(await services.catalogue.items(owner))


register("item", Spec(_item_form, _item_check, _item_save, _catalogue_screen))


async def adjust_command(
    message: Message,
    command: CommandObject,
    event_from_user: User,
    services: Services,
    courier: OutboxDispatcher,
) -> None:
    parts = (command.args or "").split(maxsplit=2)
    if len(parts) < 3:
        await message.answer(_("Send it like this: /adjust CODE +50 birthday gift (or -20 and a reason)."))
        return
    result = await services.points.adjust(
        event_from_user.id, parts[0], parts[1], parts[2], message.message_id
    )
    await message.answer(adjusted_text(result))
    await courier.deliver_now(result.news)


def router() -> Router:
    points = Router(name="points")
    points.message.register(cancel_form, Command("cancel"), StateFilter(AmountForm, CatalogueForm))
    points.message.register(buy_command, Command("buy", "beli"))
    points.message.register(
        amount_typed, StateFilter(AmountForm.amount), OnLoop(F.text), OnLoop(~F.text.startswith("/"))
    )
    points.callback_query.register(confirm_sale, SaleAction.filter(F.action == Decision.CONFIRM))
    points.callback_query.register(cancel_sale, SaleAction.filter(F.action == Decision.CANCEL))
    points.callback_query.register(open_catalogue, ShowCatalogue.filter())
    points.callback_query.register(pick_item, CatalogueChoice.filter())
    points.callback_query.register(exchange, ExchangeAction.filter())
    points.callback_query.register(give_back, ReturnReward.filter())
    points.message.register(show_catalogue, Command("catalogue", "catalog", "katalog"))
    points.callback_query.register(item_action, ItemAction.filter())
    points.message.register(
        item_answer,
        StateFilter(CatalogueForm.value),
        OnLoop(~F.text.startswith("/")),
    )
    points.message.register(adjust_command, Command("adjust"))
    return points
