"""What staff read at the counter: prompts, claims and their shops."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from kartu.handlers.callbacks import ClaimAction, ShopChoice
from kartu.loyalty.staff import Role
from kartu.presenters.format import HTML, html, join_html, money_text, plain, time_text
from kartu.services.views import ClaimView, PurchasePromptView, RedeemPromptView, WorkplaceEntry


def with_shop(prompt: PurchasePromptView | RedeemPromptView, text: HTML) -> HTML:
    """Every staff prompt names the shop it was opened for (people may work at several)."""
    return join_html("\n", [html("🏪 <b>{shop}</b>", shop=prompt.merchant_name), text])


def claim_request(claim: ClaimView) -> tuple[HTML, InlineKeyboardMarkup]:
    """What staff see when a customer says they bought something (in the current locale)."""
    # Stored as the customer's receipt shows it ("25.000"); staff read it in their own locale.
    amount = html(" ({amount})", amount=money_text(int(claim.amount.replace(".", "")))) if claim.amount else html("")
    text = html(
        _("🧾 <b>{first_name}</b> says they bought something{amount} at {time}.\nCard: {stamps}/{required}. Approve?"),
        first_name=claim.customer_first_name, amount=amount, time=time_text(claim.created_at, claim.card.timezone),
        stamps=claim.card.stamps, required=claim.card.stamps_required,
    )
    builder = InlineKeyboardBuilder()
    builder.button(text=_("✅ Approve"), callback_data=ClaimAction(action="ok", claim_id=claim.claim_id))
    builder.button(text=_("✖️ Reject"), callback_data=ClaimAction(action="no", claim_id=claim.claim_id))
    return text, builder.as_markup()


def shops_text(places: list[WorkplaceEntry]) -> tuple[HTML, InlineKeyboardMarkup]:
    acting = next(place for place in places if place.acting)
    builder = InlineKeyboardBuilder()
    for place in places:
        mark = "✅ " if place.acting else ""
        role = _("owner") if place.role == Role.OWNER else _("staff")
        builder.button(text=plain("{mark}{shop} ({role})", mark=mark, shop=place.merchant_name, role=role),
                       callback_data=ShopChoice(merchant_id=place.merchant_id))
    builder.adjust(1)
    text = html(_("You act for <b>{shop}</b>: codes you send and owner commands are for this shop."), shop=acting.merchant_name)
    if len(places) > 1:
        text = join_html("\n", [text, html(_("Tap a shop to switch."))])
    return text, builder.as_markup()
