"""Partner vouchers: the owner's /partners screen, the proposal form (shop, condition, voucher,
limits, then Send), accepting or declining a proposal, ending a partnership, the shop's address and
location, and the vouchers' CSV."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, Message, User
from aiogram.utils.i18n import gettext as _

from kartu.handlers.common import best_effort, cancel_form
from kartu.handlers.filters import OnLoop
from kartu.handlers.guided import Screen, Spec, answered_on_screen, ask_on_screen, open_form, register
from kartu.handlers.states import PartnerForm
from kartu.media.exports import vouchers_csv
from kartu.presenters.callbacks import PartnerAction, PartnerStep
from kartu.presenters.format import html, join_html, plain
from kartu.presenters.guided import Guided
from kartu.presenters.owner import export_words
from kartu.presenters.partners import (
    end_question,
    partner_question,
    partners_text,
    proposal_field_text,
    proposal_form,
)
from kartu.services.container import Services
from kartu.services.partners import ProposedTerms


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
        case PartnerStep.VOUCHERS:
            slug, rows = await services.partners.vouchers(owner)
            data = await asyncio.to_thread(vouchers_csv, rows, export_words())
            await query.answer()
            await screen.answer_document(
                BufferedInputFile(data, filename=plain("{slug}-partner-vouchers.csv", slug=slug)),
                caption=html(_("Partner vouchers: {count}"), count=len(rows)),
            )
            return
        case PartnerStep.PROPOSE:
            await open_form(query, state, services, "proposal")
            return
        case _:  # the address, the location
            await services.partners.overview(owner)  # the owner check, before the form opens
            form_state, field = (
                (PartnerForm.address, "address")
                if step == PartnerStep.ADDRESS
                else (PartnerForm.location, "location")
            )
            back = PartnerAction(action=PartnerStep.SHOW).pack()
            await ask_on_screen(query, state, form_state, partner_question(field), back)
            return
    await query.answer()
    text, markup = partners_text(view)
    await best_effort(screen.edit_text(text, reply_markup=markup))


async def address_typed(
    message: Message, event_from_user: User, services: Services, state: FSMContext, bot: Bot
) -> None:
    view = await services.partners.set_address(event_from_user.id, message.text or "")  # refused: asked again
    await answered_on_screen(message, bot, state, partners_text(view))


async def location_sent(
    message: Message, event_from_user: User, services: Services, state: FSMContext, bot: Bot
) -> None:
    assert message.location is not None
    view = await services.partners.set_location(
        event_from_user.id, message.location.latitude, message.location.longitude
    )
    await answered_on_screen(message, bot, state, partners_text(view))


# --- the proposal's guided form ------------------------------------------------------------------


async def _proposal_form(services: Services, owner: int, subject: int) -> Guided:
    view = await services.partners.overview(owner)  # the owner check
    return proposal_form(view.outlets)


async def _proposal_check(
    services: Services, owner: int, field: str, text: str, answers: Mapping[str, str], subject: int
) -> tuple[str, str]:
    value = await services.partners.check_field(owner, field, text)
    return text, proposal_field_text(field, value)


async def _proposal_save(services: Services, owner: int, answers: Mapping[str, str], subject: int) -> Screen:
    terms = ProposedTerms(
        *(
            answers.get(field, "")
            for field in ("shop", "condition", "voucher", "value", "terms", "days", "cap", "outlet")
        )
    )
    text, markup = partners_text(await services.partners.propose_terms(owner, terms))
    return join_html("\n\n", [html(_("Sent. You will hear when they answer.")), text]), markup


async def _partners_screen(services: Services, owner: int, subject: int) -> Screen:
    return partners_text(await services.partners.overview(owner))


register("proposal", Spec(_proposal_form, _proposal_check, _proposal_save, _partners_screen))


def router() -> Router:
    partners = Router(name="partners")
    partners.message.register(cancel_form, Command("cancel"), StateFilter(PartnerForm))
    partners.message.register(show_partners, Command("partners", "mitra"))
    partners.callback_query.register(partner_action, PartnerAction.filter())
    partners.message.register(location_sent, StateFilter(PartnerForm.location), OnLoop(F.location))
    partners.message.register(
        address_typed, StateFilter(PartnerForm.address), OnLoop(F.text), OnLoop(~F.text.startswith("/"))
    )
    return partners
