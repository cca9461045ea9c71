"""Owners broadcast: write, pick a segment, see the count and a preview, confirm, follow progress."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from aiogram.utils.keyboard import InlineKeyboardBuilder

from kartu.handlers.callbacks import BroadcastAction, BroadcastSegment
from kartu.handlers.common import cancel_form
from kartu.handlers.filters import MenuButton
from kartu.loyalty.segments import BROADCAST_TEXT_MAX, Segment
from kartu.presenters.format import html, plain
from kartu.presenters.menus import MENU_BROADCAST
from kartu.presenters.notices import broadcast_text
from kartu.presenters.owner import SEGMENT_LABELS
from kartu.services.container import Services


class BroadcastForm(StatesGroup):
    message = State()
    segment = State()
    confirm = State()


async def begin(message: Message, services: Services, state: FSMContext) -> None:
    await services.broadcasts.audience(message.from_user.id, segments=())  # type: ignore[union-attr]  # owner only; one at a time
    await state.set_state(BroadcastForm.message)
    await message.answer(_("Send the message for your customers: text, or a photo with a caption. Send /cancel to stop."))


async def receive_message(message: Message, services: Services, state: FSMContext) -> None:
    photo = message.photo[-1].file_id if message.photo else None
    await take_broadcast(message, message.from_user.id, message.text or message.caption or "", photo, services, state)  # type: ignore[union-attr]


async def take_broadcast(message: Message, owner_id: int, text: str, photo: str | None, services: Services, state: FSMContext) -> None:
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
    builder = InlineKeyboardBuilder()
    for segment, label in SEGMENT_LABELS.items():
        builder.button(text=plain("{label} ({count})", label=_(label), count=audience[segment]), callback_data=BroadcastSegment(segment=segment))
    builder.button(text=_("✖️ Cancel"), callback_data=BroadcastAction(action="drop"))
    builder.adjust(1)
    await message.answer(
        _("Who should get it? Customers who opted out, blocked the bot or got a broadcast in the last day are not counted."),
        reply_markup=builder.as_markup(),
    )


async def choose_segment(query: CallbackQuery, callback_data: BroadcastSegment, services: Services, state: FSMContext, bot: Bot) -> None:
    shop = await services.merchants.require_owner(query.from_user.id)  # who taps, before anything else
    data = await state.get_data()
    if await state.get_state() != BroadcastForm.segment.state or callback_data.segment not in set(Segment):
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    segment = Segment(callback_data.segment)
    count = (await services.broadcasts.audience(query.from_user.id, segments=(segment,)))[segment]
    await state.update_data(segment=callback_data.segment)
    await state.set_state(BroadcastForm.confirm)
    await query.answer()
    chat_id = query.from_user.id
    preview = broadcast_text(shop, data.get("text") or "")  # exactly what customers will get
    if data.get("photo"):
        await bot.send_photo(chat_id, data["photo"], caption=preview)
    else:
        await bot.send_message(chat_id, preview)
    builder = InlineKeyboardBuilder()
    builder.button(text=_("📣 Send"), callback_data=BroadcastAction(action="send"))
    builder.button(text=_("✖️ Cancel"), callback_data=BroadcastAction(action="drop"))
    await bot.send_message(
        chat_id,
        html(ngettext("Above is the preview. Send it to {count} customer ({segment})?", "Above is the preview. Send it to {count} customers ({segment})?",
                      count), count=count, segment=_(SEGMENT_LABELS[segment])),
        reply_markup=builder.as_markup(),
    )


async def act(query: CallbackQuery, callback_data: BroadcastAction, services: Services, state: FSMContext) -> None:
    owner_id = query.from_user.id
    if callback_data.action == "stop":
        await services.broadcasts.cancel(owner_id, callback_data.broadcast_id)
        await query.answer(_("Cancelling: nobody else will get it."))
        return
    if callback_data.action == "drop":
        await services.merchants.require_owner(owner_id)
        await state.clear()
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.edit_text(_("Broadcast discarded. Nothing was sent."))
        return
    data = await state.get_data()
    if callback_data.action != "send" or await state.get_state() != BroadcastForm.confirm.state:
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    started = await services.broadcasts.start(owner_id, data.get("text", ""), data.get("photo"), data.get("segment", ""))
    await state.clear()
    await query.answer(_("Sending."))
    builder = InlineKeyboardBuilder()
    builder.button(text=_("⏹ Cancel broadcast"), callback_data=BroadcastAction(action="stop", broadcast_id=started.broadcast_id))
    if isinstance(query.message, Message):
        progress = await query.message.edit_text(
            html(
                _("📣 Broadcast sending: {counts}"),
                counts=html(_("sent {sent} · failed {failed} · remaining {remaining}"), sent=0, failed=0, remaining=started.total),
            ),
            reply_markup=builder.as_markup(),
        )
        if isinstance(progress, Message):
            await services.broadcasts.attach_progress(started.broadcast_id, progress.chat.id, progress.message_id, started.total)


def router() -> Router:
    broadcasts = Router(name="broadcasts")
    broadcasts.message.register(cancel_form, Command("cancel"), StateFilter(BroadcastForm))
    broadcasts.message.register(begin, Command("broadcast"))
    broadcasts.message.register(begin, MenuButton(MENU_BROADCAST))
    broadcasts.message.register(receive_message, BroadcastForm.message, ~F.text.startswith("/"))
    broadcasts.callback_query.register(choose_segment, BroadcastSegment.filter())
    broadcasts.callback_query.register(act, BroadcastAction.filter())
    return broadcasts
