"""Owners broadcast: write, pick a segment, see the count and a preview, confirm, follow progress."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, User
from aiogram.utils.i18n import gettext as _

from kartu.handlers.common import cancel_form
from kartu.handlers.filters import MenuButton, OnLoop
from kartu.handlers.states import BroadcastForm
from kartu.loyalty.segments import BROADCAST_TEXT_MAX
from kartu.presenters.callbacks import BroadcastAction, BroadcastSegment, BroadcastStep
from kartu.presenters.format import html
from kartu.presenters.menus import MENU_BROADCAST
from kartu.presenters.notices import broadcast_text, progress_text
from kartu.presenters.owner import outlet_question, segment_question, send_question
from kartu.services.broadcasts import BroadcastProgress
from kartu.services.container import Services


async def begin(message: Message, event_from_user: User, services: Services, state: FSMContext) -> None:
    await services.broadcasts.begin(event_from_user.id)
    await state.set_state(BroadcastForm.message)
    await message.answer(
        _("Send the message for your customers: text, or a photo with a caption. Send /cancel to stop.")
    )


async def receive_message(
    message: Message, event_from_user: User, services: Services, state: FSMContext
) -> None:
    photo = message.photo[-1].file_id if message.photo else None
    await take_broadcast(
        message, event_from_user.id, message.text or message.caption or "", photo, services, state
    )


async def take_broadcast(
    message: Message, owner_id: int, text: str, photo: str | None, services: Services, state: FSMContext
) -> None:
    """The broadcast's content arrived (typed now, or confirmed after it looked like a code)."""
    if not text.strip() and photo is None:
        await message.answer(_("Please send text, or a photo with a caption."))
        return
    if len(text) > BROADCAST_TEXT_MAX:
        await message.answer(html(_("Please keep it under {limit} characters."), limit=BROADCAST_TEXT_MAX))
        return
    audience = await services.broadcasts.audience(owner_id)
    await state.update_data(text=text, photo=photo)
    await state.set_state(BroadcastForm.segment)
    question, markup = segment_question(audience)
    await message.answer(question, reply_markup=markup)


async def choose_segment(
    query: CallbackQuery, callback_data: BroadcastSegment, services: Services, state: FSMContext, bot: Bot
) -> None:
    preview = await services.broadcasts.preview(
        query.from_user.id, callback_data.segment, callback_data.scope
    )  # checks who taps first
    data = await state.get_data()
    if await state.get_state() != BroadcastForm.segment.state:
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    segment = preview.segment
    if preview.outlets:  # a business with several outlets: whose customers?
        await query.answer()
        question, markup = outlet_question(preview)
        await bot.send_message(query.from_user.id, question, reply_markup=markup)
        return
    await state.update_data(segment=callback_data.segment, scope=callback_data.scope)
    await state.set_state(BroadcastForm.confirm)
    await query.answer()
    chat_id = query.from_user.id
    message = broadcast_text(preview.merchant_name, data.get("text") or "")  # exactly what customers will get
    if data.get("photo"):
        await bot.send_photo(chat_id, data["photo"], caption=message)
    else:
        await bot.send_message(chat_id, message)
    question, markup = send_question(preview.audience, segment, preview.outlet)
    await bot.send_message(chat_id, question, reply_markup=markup)


async def stop(query: CallbackQuery, callback_data: BroadcastAction, services: Services) -> None:
    await services.broadcasts.cancel(query.from_user.id, callback_data.broadcast_id)
    await query.answer(_("Cancelling: nobody else will get it."))


async def drop(query: CallbackQuery, services: Services, state: FSMContext) -> None:
    await services.broadcasts.discard(query.from_user.id)
    await state.clear()
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(_("Broadcast discarded. Nothing was sent."))


async def send(query: CallbackQuery, services: Services, state: FSMContext) -> None:
    data = await state.get_data()
    if await state.get_state() != BroadcastForm.confirm.state:
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    started = await services.broadcasts.start(
        query.from_user.id,
        data.get("text", ""),
        data.get("photo"),
        data.get("segment", ""),
        data.get("scope"),
    )
    await state.clear()
    await query.answer(_("Sending."))
    if isinstance(query.message, Message):
        first = progress_text(
            BroadcastProgress(
                started.broadcast_id,
                query.message.chat.id,
                query.message.message_id,
                "",
                0,
                0,
                started.total,
                0,
                finished=False,
                was_cancelled=False,
            )
        )
        progress = await query.message.edit_text(first.text, reply_markup=first.markup)
        if isinstance(progress, Message):
            await services.broadcasts.attach_progress(
                started.broadcast_id, progress.chat.id, progress.message_id, started.total
            )


def router() -> Router:
    broadcasts = Router(name="broadcasts")
    broadcasts.message.register(cancel_form, Command("cancel"), StateFilter(BroadcastForm))
    broadcasts.message.register(begin, Command("broadcast"))
    broadcasts.message.register(begin, MenuButton(MENU_BROADCAST))
    broadcasts.message.register(
        receive_message, StateFilter(BroadcastForm.message), OnLoop(~F.text.startswith("/"))
    )
    broadcasts.callback_query.register(choose_segment, BroadcastSegment.filter())
    broadcasts.callback_query.register(stop, BroadcastAction.filter(F.action == BroadcastStep.STOP))
    broadcasts.callback_query.register(drop, BroadcastAction.filter(F.action == BroadcastStep.DROP))
    broadcasts.callback_query.register(send, BroadcastAction.filter(F.action == BroadcastStep.SEND))
    return broadcasts
