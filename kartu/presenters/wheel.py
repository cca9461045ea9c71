"""What the wheel looks like: the odds customers are shown, the wheel turning, what it gave, and
the owner's /wheel screen."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from aiogram.types import BufferedInputFile, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from aiogram.utils.keyboard import InlineKeyboardBuilder

from kartu.loyalty.wheel import EarnRule, PrizeKind
from kartu.media.wheel_image import WheelPicture, render_wheel
from kartu.presenters.callbacks import SpinAction, WheelAction, WheelStep
from kartu.presenters.customer import points_text
from kartu.presenters.format import (
    HTML,
    N_,
    date_text,
    html,
    join_html,
    money_text,
    odds_text,
    plain,
    stamps_text,
)
from kartu.presenters.guided import Guided, Step
from kartu.services.delivery import SpinEarnedNotice, SpinResultNotice
from kartu.services.wheel import CustomerWheel, PrizeForm, PrizeView, SpinOutcome, WheelView


def prize_name(kind: str, amount: int, label: str) -> str:
    match kind:
        case PrizeKind.STAMPS:
            return plain(ngettext("{count} stamp", "{count} stamps", amount), count=amount)
        case PrizeKind.POINTS:
            return plain(ngettext("{count} point", "{count} points", amount), count=amount)
        case PrizeKind.ITEM:
            return label
    return _("Try again")


def _name(prize: PrizeView) -> str:
    return prize_name(prize.kind, prize.amount, prize.label)


def _odds_lines(wheel: WheelView) -> list[HTML]:
    lines = [
        html("• {prize} — {odds}", prize=_name(prize), odds=odds_text(prize.odds)) for prize in wheel.prizes
    ]
    if wheel.rest > 0:
        lines.append(html("• {prize} — {odds}", prize=_("Try again"), odds=odds_text(wheel.rest)))
    return lines


def earn_rule_text(wheel: WheelView) -> HTML:
    match wheel.rule:
        case EarnRule.EVERY if wheel.every > 1:
            return html(_("Every {count} purchases earn a spin."), count=wheel.every)
        case EarnRule.EVERY:
            return html(_("Every purchase earns a spin."))
        case EarnRule.AMOUNT:
            return html(_("A purchase of {amount} or more earns a spin."), amount=money_text(wheel.minimum))
    return html(_("Spins are not being given right now."))


def customer_wheel_text(view: CustomerWheel, locale: str) -> tuple[HTML, InlineKeyboardMarkup | None]:
    wheel = view.wheel
    lines = [html(_("🎡 <b>Spin the wheel at {shop}</b>"), shop=wheel.merchant_name), earn_rule_text(wheel)]
    if wheel.prizes:
        lines.append(html(_("The odds of each spin:")))
        lines += _odds_lines(wheel)
    if view.ready and view.next_expiry is not None:
        lines.append(
            html(
                ngettext(
                    "You have {count} spin (use it by {date}).",
                    "You have {count} spins (the first by {date}).",
                    view.ready,
                ),
                count=view.ready,
                date=date_text(view.next_expiry, view.timezone, locale),
            )
        )
    else:
        lines.append(html(_("You have no spin right now.")))
    markup = spin_button() if view.ready and wheel.prizes else None
    return join_html("\n", lines), markup


def spin_button() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("🎡 Spin!"), callback_data=SpinAction())
    return builder.as_markup()


async def spin_animation(outcome: SpinOutcome) -> BufferedInputFile:
    slices = tuple((_name(prize), prize.odds) for prize in outcome.slices)
    rest = 10_000 - sum(prize.odds for prize in outcome.slices)
    picture = WheelPicture((*slices, (_("Try again"), rest)), outcome.landed)
    gif = await asyncio.to_thread(render_wheel, picture)
    return BufferedInputFile(gif, filename="wheel.gif")


def spin_earned_notice(notice: SpinEarnedNotice) -> tuple[HTML, InlineKeyboardMarkup]:
    return html(
        _("🎡 Your purchase at <b>{shop}</b> earned a spin of the wheel! Spin by {date}."),
        shop=notice.merchant_name,
        date=date_text(notice.expires_at, notice.timezone, notice.language),
    ), spin_button()


def spin_result_notice(notice: SpinResultNotice) -> HTML:
    if notice.kind in ("", PrizeKind.NOTHING):
        return html(_("🎡 Not this time. Thank you for playing at <b>{shop}</b>!"), shop=notice.merchant_name)
    prize: object
    if notice.kind == PrizeKind.STAMPS:
        prize = stamps_text(notice.amount)
    elif notice.kind == PrizeKind.POINTS:
        prize = points_text(notice.amount)
    else:
        prize = notice.label
    return html(_("🎉 You won {prize} at <b>{shop}</b>!"), prize=prize, shop=notice.merchant_name)


# --- owners --------------------------------------------------------------------------------------


def _budget(prize: PrizeView) -> str:
    parts = []
    if prize.daily_budget is not None:
        parts.append(plain(_("{count}/day"), count=prize.daily_budget))
    if prize.monthly_budget is not None:
        parts.append(plain(_("{count}/month"), count=prize.monthly_budget))
    return ", ".join(parts) if parts else _("no limit")


def wheel_admin_text(wheel: WheelView) -> tuple[HTML, InlineKeyboardMarkup]:
    lines = [html(_("🎡 <b>The wheel of {shop}</b>"), shop=wheel.merchant_name), earn_rule_text(wheel)]
    lines.append(
        html(
            ngettext("A spin is kept {count} day.", "A spin is kept {count} days.", wheel.valid_days),
            count=wheel.valid_days,
        )
    )
    builder = InlineKeyboardBuilder()
    if not wheel.prizes:
        lines.append(html(_("No prizes yet: tap ➕ Add a prize.")))
    for prize in wheel.prizes:
        lines.append(
            html(
                "• {prize} — {odds} · {budget}",
                prize=_name(prize),
                odds=odds_text(prize.odds),
                budget=_budget(prize),
            )
        )
        builder.button(
            text=plain(_("🗑 {prize}"), prize=_name(prize)),
            callback_data=WheelAction(action=WheelStep.DELETE, prize_id=prize.prize_id),
        )
    if wheel.prizes and wheel.rest > 0:
        lines.append(html("• {prize} — {odds}", prize=_("Try again"), odds=odds_text(wheel.rest)))
    builder.button(text=_("➕ Add a prize"), callback_data=WheelAction(action=WheelStep.ADD))
    builder.button(text=_("🎯 What earns a spin"), callback_data=WheelAction(action=WheelStep.RULE))
    builder.button(text=_("⌛ Days to spin"), callback_data=WheelAction(action=WheelStep.DAYS))
    builder.adjust(*([1] * len(wheel.prizes)), 1, 2)
    return join_html("\n", lines), builder.as_markup()


def wheel_question(step: WheelStep) -> HTML:
    match step:
        case WheelStep.RULE:
            return html(
                _("What earns a spin? Send every, every 3 (every third purchase), over 100.000, or off.")
            )
        case WheelStep.DAYS:
            return html(_("For how many days can a spin be used? Send a number from 1 to 90."))
    return html(_("Send the new value."))


def prize_form(form: PrizeForm) -> Guided:
    """The new prize's form: what it gives (the units the shop runs), how many or which reward, its
    odds, and budgets that may be left out."""
    kinds = form.kinds
    choices = [
        *([(PrizeKind.STAMPS.value, N_("🎟 Stamps"))] if kinds.stamps else []),
        *([(PrizeKind.POINTS.value, N_("⭐ Points"))] if kinds.points else []),
        *([(PrizeKind.ITEM.value, N_("🎁 A catalogue reward"))] if kinds.points and form.items else []),
        (PrizeKind.NOTHING.value, N_("🔁 Try again")),
    ]
    gives = ("stamps", "points")
    return Guided(
        N_("🎡 New prize"),
        (
            Step("kind", N_("Prize"), N_("What does the prize give?"), tuple(choices)),
            Step(
                "amount",
                N_("How many"),
                N_("How many? Send a number, like 2."),
                when=lambda answers: answers.get("kind") in gives,
            ),
            Step(
                "item",
                N_("Reward"),
                N_("Which reward of your catalogue? Tap it or send its name."),
                tuple((name, name) for name in form.items[:8]),
                when=lambda answers: answers.get("kind") == PrizeKind.ITEM,
            ),
            Step(
                "odds",
                N_("Odds"),
                N_("Its odds, as a percentage: like 25% or 2,5%. All prizes together: at most 100%."),
            ),
            Step(
                "daily",
                N_("A day at most"),
                N_("How many may be won a day, at most? Send a number, or Skip for no limit."),
                optional=True,
                when=lambda answers: answers.get("kind") != PrizeKind.NOTHING,
            ),
            Step(
                "monthly",
                N_("A month at most"),
                N_("And a month, at most? Send a number, or Skip for no limit."),
                optional=True,
                when=lambda answers: answers.get("kind") != PrizeKind.NOTHING,
            ),
        ),
    )


def prize_field_text(field: str, value: object, answers: Mapping[str, str]) -> str:
    """How the summary shows one answer of the new prize's form."""
    match field:
        case "kind":
            return {
                PrizeKind.STAMPS: _("🎟 Stamps"),
                PrizeKind.POINTS: _("⭐ Points"),
                PrizeKind.ITEM: _("🎁 A catalogue reward"),
            }.get(PrizeKind(str(value)), _("🔁 Try again"))
        case "amount":
            return prize_name(str(answers.get("kind", "")), int(str(value)), "")
        case "odds":
            return odds_text(int(str(value)))
        case "daily" | "monthly":
            return plain(_("{count} at most"), count=int(str(value))) if value is not None else _("no limit")
    return str(value)
