"""Partner vouchers: the owner's /partners screen, the proposal form (shop, condition, voucher,
limits, then Send), accepting or declining a proposal, ending a partnership, the shop's address and
location, and the vouchers' CSV."""

from __future__ import annotations

import asyncio

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, Message, User
from aiogram.utils.i18n import gettext as _

from kartu.handlers.common import best_effort, cancel_form
from kartu.handlers.filters import OnLoop
from kartu.handlers.states import PartnerForm
from kartu.media.exports import vouchers_csv
from kartu.presenters.callbacks import PartnerAction, PartnerStep
from kartu.presenters.format import html, plain
from kartu.presenters.owner import export_words
from kartu.presenters.partners import end_question, partner_question, partners_text, proposal_summary
from kartu.services.container import Services
from kartu.services.partners import Proposal

_STEPS = {  # each form step: the next one, and the proposal field its answer fills
    PartnerForm.condition.state: (PartnerForm.voucher, "condition"),
    PartnerForm.voucher.state: (PartnerForm.limits, "voucher"),
    PartnerForm.limits.state: (PartnerForm.confirm, "limits"),
}


async def show_partners(
    message: Message, event_from_user: User, services: Services, state: FSMContext
) -> None:
    await state.clear()
    text, markup = partners_text(await services.partners.overview(event_from_user.id))
    await message.answer(text, reply_markup=markup)


async def partner_action(
    query: CallbackQuery, callback_data: PartnerAction, services: Services, state: FSMContext
) -> None:
    owner, step, partnership_id = query.from_user.id, callback_data.action, callback_data.partnership_id
    if not isinstance(query.message, Message):
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    screen = query.message
    match step:
        case PartnerStep.SHOW:
            await state.clear()
            view = await services.partners.overview(owner)
        case PartnerStep.ACCEPT | PartnerStep.DECLINE:
            view = await services.partners.decide(owner, partnership_id, step == PartnerStep.ACCEPT)
        case PartnerStep.END:
            view = await services.partners.overview(owner)
            shop = next((p.other_name for p in view.partnerships if p.partnership_id == partnership_id), None)
            if shop is None:
                await query.answer(_("This button is no longer valid."), show_alert=True)
                return
            text, markup = end_question(shop, partnership_id)
            await query.answer()
            await best_effort(screen.edit_text(text, reply_markup=markup))
            return
        case PartnerStep.END_CONFIRMED:
            view = await services.partners.end(owner, partnership_id)
        case PartnerStep.SEND:
            data = await state.get_data()
            if await state.get_state() != PartnerForm.confirm.state:
                await query.answer(_("This button is no longer valid."), show_alert=True)
                return
            proposal = Proposal(
                *(str(data.get(field, "")) for field in ("shop", "condition", "voucher", "limits"))
            )
            view = await services.partners.propose(owner, proposal)
            await state.clear()
            await query.answer(_("Sent. You will hear when they answer."))
            text, markup = partners_text(view)
            await best_effort(screen.edit_text(text, reply_markup=markup))
            return
        case PartnerStep.VOUCHERS:
            slug, rows = await services.partners.vouchers(owner)
            data = await asyncio.to_thread(vouchers_csv, rows, export_words())
            await query.answer()
            await screen.answer_document(
                BufferedInputFile(data, filename=plain("{slug}-partner-vouchers.csv", slug=slug)),
                caption=html(_("Partner vouchers: {count}"), count=len(rows)),
            )
            return
        case _:  # a form: the proposal's first step, the address, the location
            await services.partners.overview(owner)  # the owner check, before the form opens
            form = {
                PartnerStep.PROPOSE: (PartnerForm.shop, "shop"),
                PartnerStep.ADDRESS: (PartnerForm.address, "address"),
            }.get(step, (PartnerForm.location, "location"))
            await state.set_state(form[0])
            await state.set_data({})
            await query.answer()
            await screen.answer(partner_question(form[1]))
            return
    await query.answer()
    text, markup = partners_text(view)
    await best_effort(screen.edit_text(text, reply_markup=markup))


async def partner_typed(
    message: Message, event_from_user: User, services: Services, state: FSMContext
) -> None:
    """One answer of the proposal form; a refused one is answered and asked again."""
    owner, typed, current = event_from_user.id, message.text or "", await state.get_state()
    if current == PartnerForm.shop.state:
        partner = await services.partners.check_partner(owner, typed)
        await state.update_data(shop=typed, partner=partner)
        await state.set_state(PartnerForm.condition)
        await message.answer(partner_question("condition", partner))
        return
    if current == PartnerForm.address.state:
        view = await services.partners.set_address(owner, typed)
        await state.clear()
        text, markup = partners_text(view)
        await message.answer(text, reply_markup=markup)
        return
    follows, field = _STEPS[str(current)]
    await state.update_data({field: typed})
    data = await state.get_data()
    await services.partners.check_step(field, typed)  # refused here: asked again
    await state.set_state(follows)
    if follows == PartnerForm.confirm:
        proposal = Proposal(*(str(data.get(name, "")) for name in ("shop", "condition", "voucher", "limits")))
        text, markup = proposal_summary(str(data.get("partner", "")), proposal)
        await message.answer(text, reply_markup=markup)
        return
    await message.answer(partner_question(str(follows.state).split(":")[-1]))


async def location_sent(
    message: Message, event_from_user: User, services: Services, state: FSMContext
) -> None:
    assert message.location is not None
    view = await services.partners.set_location(
        event_from_user.id, message.location.latitude, message.location.longitude
    )
    await state.clear()
    text, markup = partners_text(view)
    await message.answer(text, reply_markup=markup)


def router() -> Router:
    partners = Router(name="partners")
    partners.message.register(cancel_form, Command("cancel"), StateFilter(PartnerForm))
    partners.message.register(show_partners, Command("partners", "mitra"))
    partners.callback_query.register(partner_action, PartnerAction.filter())
    partners.message.register(location_sent, StateFilter(PartnerForm.location), OnLoop(F.location))
    partners.message.register(
        partner_typed,
        StateFilter(
            PartnerForm.shop,
            PartnerForm.condition,
            PartnerForm.voucher,
            PartnerForm.limits,
            PartnerForm.address,
        ),
        OnLoop(F.text),
        OnLoop(~F.text.startswith("/")),
    )
    return partners
