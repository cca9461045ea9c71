"""What staff read at the counter: prompts, their outcomes, claims and their shops."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from aiogram.utils.keyboard import InlineKeyboardBuilder

from kartu.presenters.callbacks import (
    ClaimAction,
    ClaimOutlet,
    Decision,
    PurchaseAction,
    RedeemAction,
    ShopChoice,
)
from kartu.presenters.common import confirm_cancel, role_name
from kartu.presenters.customer import progress_line
from kartu.presenters.format import (
    HTML,
    N_,
    date_text,
    day_text,
    html,
    i18n_locale,
    join_html,
    money_text,
    plain,
    purchases_text,
    stamps_text,
    time_text,
)
from kartu.services.claims import ClaimDecision, ClaimView
from kartu.services.counter import PurchasePromptView, RedeemPromptView, RedeemResult
from kartu.services.crediting import PurchaseResult
from kartu.services.merchants import WorkplaceEntry


def with_shop(prompt: PurchasePromptView | RedeemPromptView, text: HTML) -> HTML:
    """Every staff prompt names the shop it was opened for (people may work at several)."""
    return join_html("\n", [html("🏪 <b>{shop}</b>", shop=prompt.merchant_name), text])


def prompt_text(
    prompt: PurchasePromptView | RedeemPromptView, locale: str
) -> tuple[HTML, InlineKeyboardMarkup]:
    """A purchase or redemption waiting for Confirm: who it is, what it adds or uses."""
    if isinstance(prompt, RedeemPromptView):
        text = html(
            _("Redeem <b>{reward}</b> for {first_name}? Valid until {date}."),
            reward=prompt.reward_name,
            first_name=prompt.customer_first_name,
            date=date_text(prompt.expires_at, prompt.timezone, locale),
        )
        return with_shop(prompt, text), confirm_cancel(
            RedeemAction(action=Decision.CONFIRM, token=prompt.token).pack(),
            RedeemAction(action=Decision.CANCEL, token=prompt.token).pack(),
        )
    handle = plain(" @{username}", username=prompt.customer_username) if prompt.customer_username else ""
    visit = (
        plain(_("last visit {date}"), date=date_text(prompt.last_visit, prompt.timezone, locale))
        if prompt.last_visit
        else _("first visit")
    )
    lines = [
        html(
            "👤 <b>{first_name}</b>{handle} · {visit}",
            first_name=prompt.customer_first_name,
            handle=handle,
            visit=visit,
        ),
        html(
            _("{first_name} has {stamps}/{required} stamps."),
            first_name=prompt.customer_first_name,
            stamps=prompt.stamps,
            required=prompt.stamps_required,
        ),
        html(
            _("Add {stamps} for {purchases}?"),
            stamps=stamps_text(prompt.stamps_to_add),
            purchases=purchases_text(prompt.purchases),
        ),
    ]
    if prompt.just_stamped is not None:
        seconds = int(prompt.just_stamped.total_seconds())
        lines.insert(
            0,
            html(
                _("⚠️ {first_name} got a stamp {ago} ago. Another purchase?")
                if seconds >= 60
                else _("⚠️ {first_name} got a stamp {seconds} s ago. Another purchase?"),
                first_name=prompt.customer_first_name,
                ago=plain(_("{minutes} min"), minutes=seconds // 60),
                seconds=seconds,
            ),
        )
    if prompt.open_rewards:
        lines.append(
            html(
                ngettext(
                    "🎁 {first_name} has {count} reward waiting: ask for the reward code to redeem it.",
                    "🎁 {first_name} has {count} rewards waiting: ask for the reward code to redeem them.",
                    prompt.open_rewards,
                ),
                first_name=prompt.customer_first_name,
                count=prompt.open_rewards,
            )
        )
    return with_shop(prompt, join_html("\n", lines)), confirm_cancel(
        PurchaseAction(action=Decision.CONFIRM, token=prompt.token).pack(),
        PurchaseAction(action=Decision.CANCEL, token=prompt.token).pack(),
    )


def purchase_confirmed(result: PurchaseResult) -> HTML:
    summary = html(
        _("✅ Confirmed: {first_name} got {stamps} and now has {progress}"),
        first_name=result.customer_first_name,
        stamps=stamps_text(result.stamps_added),
        progress=progress_line(result.card),
    )
    if not result.new_rewards:
        return summary
    return join_html("\n", [summary, rewards_issued_line(len(result.new_rewards))])


def rewards_issued_line(issued: int) -> HTML:
    return html(
        ngettext("🎉 Card full: {count} reward issued.", "🎉 Card full: {count} rewards issued.", issued),
        count=issued,
    )


def redeem_confirmed(result: RedeemResult) -> HTML:
    return html(
        _("✅ Redeemed: {reward} for {first_name}."),
        reward=result.reward_name,
        first_name=result.customer_first_name,
    )


REFUSAL_LABELS = {
    "not_on_receipt": N_("✖️ Not on the receipt"),
    "already_stamped": N_("✖️ Stamped already"),
    "unreadable": N_("✖️ Cannot read it"),
}
REFUSAL_WORDS = {
    "not_on_receipt": N_("the receipt does not show that visit"),
    "already_stamped": N_("that visit was stamped already"),
    "unreadable": N_("the photo of the receipt could not be read"),
}


def missing_stamp_request(claim: ClaimView) -> tuple[HTML, InlineKeyboardMarkup]:
    """What staff see under a missing stamp's receipt: the visit's day, the card, Approve, and
    a reason to refuse it."""
    assert claim.visit_day is not None
    lines = [
        html(
            _(
                "🧾 <b>{first_name}</b> says a stamp is missing for their visit on {day}. The receipt is above."
            ),
            first_name=claim.customer_first_name,
            day=day_text(claim.visit_day, i18n_locale()),
        ),
        html(
            _("Card: {stamps}/{required}. Approve?"),
            stamps=claim.card.stamps,
            required=claim.card.stamps_required,
        ),
    ]
    if claim.outlet_name:
        lines.append(html(_("📍 At {outlet}"), outlet=claim.outlet_name))
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("✅ Approve"), callback_data=ClaimAction(action=Decision.CONFIRM, claim_id=claim.claim_id)
    )
    for reason, label in REFUSAL_LABELS.items():
        builder.button(
            text=_(label),
            callback_data=ClaimAction(action=Decision.CANCEL, claim_id=claim.claim_id, why=reason),
        )
    builder.adjust(1)
    return join_html("\n", lines), builder.as_markup()


def claim_request(claim: ClaimView) -> tuple[HTML, InlineKeyboardMarkup]:
    """What staff see when a customer says they bought something (in the current locale)."""
    if claim.visit_day is not None:
        return missing_stamp_request(claim)
    # Stored as the customer's receipt shows it ("25.000"); staff read it in their own locale.
    amount = (
        html(" ({amount})", amount=money_text(int(claim.amount.replace(".", ""))))
        if claim.amount
        else html("")
    )
    text = html(
        _(
            "🧾 <b>{first_name}</b> says they bought something{amount} at {time}.\nCard: {stamps}/{required}. Approve?"
        ),
        first_name=claim.customer_first_name,
        amount=amount,
        time=time_text(claim.created_at, claim.card.timezone),
        stamps=claim.card.stamps,
        required=claim.card.stamps_required,
    )
    if claim.outlet_name:
        text = join_html("\n", [text, html(_("📍 At {outlet}"), outlet=claim.outlet_name)])
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("✅ Approve"), callback_data=ClaimAction(action=Decision.CONFIRM, claim_id=claim.claim_id)
    )
    builder.button(
        text=_("✖️ Reject"), callback_data=ClaimAction(action=Decision.CANCEL, claim_id=claim.claim_id)
    )
    return text, builder.as_markup()


def claim_outlet_question(claim: ClaimView) -> tuple[HTML, InlineKeyboardMarkup]:
    """A business with several outlets: the customer says where they bought, so that outlet's
    team hears of it. The buttons name the claim's row and an outlet of its business."""
    builder = InlineKeyboardBuilder()
    for outlet_id, name in claim.outlets:
        builder.button(text=name, callback_data=ClaimOutlet(claim_id=claim.claim_id, outlet_id=outlet_id))
    builder.adjust(1)
    return html(_("🧾 Where did you buy? The team there will confirm it.")), builder.as_markup()


def missing_stamp_refused(decision: ClaimDecision, locale: str) -> HTML:
    """The customer hears why their missing stamp was not approved."""
    assert decision.visit_day is not None
    reason = REFUSAL_WORDS.get(decision.refusal or "")
    return html(
        _("Your missing stamp for {day} was not approved: {reason}. Ask at the counter if that is wrong.")
        if reason
        else _("Your missing stamp for {day} was not approved. Ask at the counter if that is wrong."),
        day=day_text(decision.visit_day, locale),
        reason=_(reason) if reason else "",
    )


def claim_decided(decision: ClaimDecision) -> HTML:
    """Every staff member's copy of a claim, once someone decided it (in the current locale)."""
    template = (
        _("✅ {customer}'s purchase approved by {name}.")
        if decision.approved
        else _("✖️ {customer}'s claim rejected by {name}.")
    )
    return html(template, customer=decision.customer_first_name, name=decision.decided_by)


def shops_text(places: list[WorkplaceEntry]) -> tuple[HTML, InlineKeyboardMarkup]:
    acting = next(place for place in places if place.acting)
    builder = InlineKeyboardBuilder()
    for place in places:
        mark = "✅ " if place.acting else ""
        builder.button(
            text=plain(
                "{mark}{shop} ({role})", mark=mark, shop=place.merchant_name, role=role_name(place.role)
            ),
            callback_data=ShopChoice(merchant_id=place.merchant_id),
        )
        if place.acting:
            for outlet_id, name in place.outlets:
                here = "✅ " if outlet_id == place.outlet_id else ""
                builder.button(
                    text=plain("   {mark}📍 {outlet}", mark=here, outlet=name),
                    callback_data=ShopChoice(merchant_id=place.merchant_id, outlet_id=outlet_id),
                )
    builder.adjust(1)
    text = html(
        _("You act for <b>{shop}</b>: codes you send and owner commands are for this shop."),
        shop=acting.merchant_name,
    )
    lines = [text]
    if acting.outlet:
        lines.append(
            html(
                _("📍 You work at <b>{outlet}</b>: purchases you confirm are counted there."),
                outlet=acting.outlet,
            )
        )
    if len(places) > 1:
        lines.append(html(_("Tap a shop to switch.")))
    if acting.outlets:
        lines.append(html(_("Tap an outlet when you work at another one today.")))
    return join_html("\n", lines), builder.as_markup()


def duty_text(on_duty: bool) -> str:
    if on_duty:
        return _("You are on duty: customers' purchase claims come to you.")
    return _("You are off duty: claims go to the staff on duty (or to everyone when nobody is).")
