"""What points look like to each audience: the sale prompt at the counter, the customer's
catalogue and their exchanges, the owner's catalogue editor and changes by hand."""

from __future__ import annotations

from datetime import datetime

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from aiogram.utils.keyboard import InlineKeyboardBuilder

from kartu.loyalty.codes import format_code
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
from kartu.presenters.common import confirm_cancel
from kartu.presenters.customer import points_text, progress_line
from kartu.presenters.format import HTML, N_, date_text, html, join_html, money_text, plain, stamps_text
from kartu.presenters.guided import Guided, Step
from kartu.presenters.screens import CHOICES_MAX, Action, Screen
from kartu.presenters.staff import rewards_issued_line
from kartu.services.catalogue import CatalogueAdminView, ItemView
from kartu.services.counter import SalePromptView
from kartu.services.crediting import PurchaseResult
from kartu.services.points import AdjustResult, CatalogueView, ExchangeResult, OfferView, ReturnResult
from kartu.services.views import RewardView


def amount_question(first_name: str) -> HTML:
    return html(
        _("How much did <b>{first_name}</b> spend? Send the amount, like 125.000 or 125rb (or /cancel)."),
        first_name=first_name,
    )


def sale_prompt_text(prompt: SalePromptView, locale: str) -> tuple[HTML, InlineKeyboardMarkup]:
    """ "Rp 125.000 → 12 points" before Confirm, with who it is and what they hold."""
    handle = plain(" @{username}", username=prompt.customer_username) if prompt.customer_username else ""
    visit = (
        plain(_("last visit {date}"), date=date_text(prompt.last_visit, prompt.timezone, locale))
        if prompt.last_visit
        else _("first visit")
    )
    lines = [
        html("🏪 <b>{shop}</b>", shop=prompt.merchant_name),
        html(
            "👤 <b>{first_name}</b>{handle} · {visit}",
            first_name=prompt.customer_first_name,
            handle=handle,
            visit=visit,
        ),
        html(
            _("<b>{amount} → {points}</b> (holds {balance} now)"),
            amount=money_text(prompt.amount),
            points=points_text(prompt.points),
            balance=prompt.balance,
        ),
    ]
    if prompt.stamps_to_add:
        lines.append(
            html(
                _("And {stamps}: {have}/{required} now."),
                stamps=stamps_text(prompt.stamps_to_add),
                have=prompt.stamps,
                required=prompt.stamps_required,
            )
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
    return join_html("\n", lines), confirm_cancel(
        SaleAction(action=Decision.CONFIRM, token=prompt.token).pack(),
        SaleAction(action=Decision.CANCEL, token=prompt.token).pack(),
    )


def sale_confirmed(result: PurchaseResult) -> HTML:
    """What staff read once a sale is confirmed: its points and, in a shop that also stamps, the
    stamp it added and the reward a full card gave."""
    lines = [
        html(
            _("✅ Confirmed: {first_name} got {points} for {amount} and now has {balance}."),
            first_name=result.customer_first_name,
            points=points_text(result.points_added),
            amount=money_text(result.amount or 0),
            balance=points_text(result.card.points or 0),
        )
    ]
    if result.stamps_added:
        lines.append(
            html(
                _("🎟 And {stamps}: {progress}"),
                stamps=stamps_text(result.stamps_added),
                progress=progress_line(result.card),
            )
        )
    if result.new_rewards:
        lines.append(rewards_issued_line(len(result.new_rewards)))
    return join_html("\n", lines)


def earned_line(points: int, amount: int | None) -> HTML:
    return html(_("✅ +{points} for {amount}!"), points=points_text(points), amount=money_text(amount or 0))


def _lapsing_lines(lapsing: tuple[tuple[datetime, int], ...], timezone: str, locale: str) -> list[HTML]:
    """Points lapsing, summed per day in the shop's time zone: "120 points expire on 1 Feb"."""
    per_day: dict[str, int] = {}
    for moment, points in lapsing:
        day = date_text(moment, timezone, locale)
        per_day[day] = per_day.get(day, 0) + points
    return [
        html(
            ngettext("⏳ {count} point expires on {date}.", "⏳ {count} points expire on {date}.", points),
            count=points,
            date=day,
        )
        for day, points in list(per_day.items())[:3]
    ]


def catalogue_text(view: CatalogueView, rewards: list[RewardView], locale: str) -> Screen:
    """What the customer can get now (a button each) and how far the rest are, after the rewards
    they already hold."""
    lines: list[HTML] = []
    if rewards:
        lines.append(html(_("<b>Your rewards</b> — show the code to staff:")))
        for reward in rewards:
            lines.append(
                html(
                    _("🎁 {reward}\nCode: <code>{code}</code> · valid until {date}"),
                    reward=reward.name,
                    code=format_code(reward.code),
                    date=date_text(reward.expires_at, reward.timezone, locale),
                )
            )
        lines.append(html(""))
    lines.append(
        html(
            _("<b>{shop}</b>: you have {points}."), shop=view.merchant_name, points=points_text(view.balance)
        )
    )
    lines += _lapsing_lines(view.expiring, view.timezone, locale)
    actions: list[Action] = []
    if not view.entries:
        lines.append(html(_("The shop has not put rewards in its catalogue yet.")))
        return Screen(join_html("\n", lines))
    lines.append(html(_("\n<b>Rewards for points</b>")))
    for entry in view.entries:
        if entry.sold_out:
            status = _("sold out")
        elif entry.affordable:
            status = _("✅ yours for the taking")
        else:
            status = plain(_("{missing} more to go"), missing=points_text(entry.price - view.balance))
        lines.append(
            html(
                "• {name} — {price} ({status})",
                name=entry.name,
                price=points_text(entry.price),
                status=status,
            )
        )
        if entry.affordable and len(actions) < CHOICES_MAX:  # the text lists them all
            actions.append(
                Action(
                    plain("🎁 {name}", name=entry.name),
                    CatalogueChoice(item_id=entry.item_id).pack(),
                    detail=points_text(entry.price),
                )
            )
    return Screen(join_html("\n", lines), tuple(actions), choose=_("🎁 Choose a reward"))


def offer_text(offer: OfferView) -> Screen:
    text = [
        html(
            _("Get <b>{reward}</b> for {price}? You will have {left} left."),
            reward=offer.name,
            price=points_text(offer.price),
            left=points_text(offer.balance - offer.price),
        )
    ]
    if offer.return_hours:
        text.append(
            html(
                ngettext(
                    "Changed your mind? Until it is used you can give it back within {hours} hour.",
                    "Changed your mind? Until it is used you can give it back within {hours} hours.",
                    offer.return_hours,
                ),
                hours=offer.return_hours,
            )
        )
    return Screen(
        join_html("\n", text),
        (
            Action(_("✅ Get it"), ExchangeAction(action=CatalogueStep.EXCHANGE, token=offer.token).pack()),
            Action(_("⬅️ Back"), ExchangeAction(action=CatalogueStep.BACK, token=offer.token).pack()),
        ),
        columns=2,
        replaces=offer.photo_file_id is None,  # with its photo it comes as a new message
    )


def exchanged_text(result: ExchangeResult) -> HTML:
    return html(
        _(
            "✅ Done: {price} for <b>{reward}</b>. You have {left} left. Your reward code is in the next message."
        ),
        price=points_text(result.price),
        reward=result.reward.name,
        left=points_text(result.balance),
    )


def return_button(reward_id: int, points: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=plain(_("↩️ Give back for {points}"), points=points_text(points)),
        callback_data=ReturnReward(reward_id=reward_id),
    )
    return builder.as_markup()


def returned_text(result: ReturnResult) -> HTML:
    return html(
        _("↩️ <b>{reward}</b> given back: {points} returned. You have {balance} now."),
        reward=result.reward_name,
        points=points_text(result.points),
        balance=points_text(result.balance),
    )


def adjusted_text(result: AdjustResult) -> HTML:
    template = (
        _("✅ Added {points} to {first_name}'s balance: {balance} now.")
        if result.delta > 0
        else _("✅ Took {points} from {first_name}'s balance: {balance} now.")
    )
    return html(
        template,
        points=points_text(abs(result.delta)),
        first_name=result.customer_first_name,
        balance=points_text(result.balance),
    )


def points_adjusted_notice(shop: str, delta: int, note: str, balance: int) -> HTML:
    template = (
        _("⭐ <b>{shop}</b> added {points} to your balance: {note}\nYou have {balance}. /rewards")
        if delta > 0
        else _("⭐ <b>{shop}</b> took {points} from your balance: {note}\nYou have {balance}. /rewards")
    )
    return html(template, shop=shop, points=points_text(abs(delta)), note=note, balance=points_text(balance))


def points_reminder_notice(
    shop: str, lapsing: tuple[tuple[datetime, int], ...], timezone: str, locale: str
) -> tuple[HTML, InlineKeyboardMarkup]:
    lines = [html(_("<b>{shop}</b>: use your points before they lapse."), shop=shop)]
    lines += _lapsing_lines(lapsing, timezone, locale)
    builder = InlineKeyboardBuilder()
    builder.button(text=_("🎁 See the rewards"), callback_data=ShowCatalogue())
    return join_html("\n", lines), builder.as_markup()


# --- the owner's catalogue editor ---------------------------------------------------------------

ITEM_LABELS = {
    ItemStep.NAME: N_("✏️ Name"),
    ItemStep.PRICE: N_("⭐ Price"),
    ItemStep.STOCK: N_("📦 Stock"),
    ItemStep.LIMIT: N_("👤 Per customer"),
    ItemStep.PHOTO: N_("🖼 Photo"),
}


def _stock(value: int | None) -> str:
    return _("unlimited") if value is None else plain("{count}", count=value)


def _limit(value: int | None) -> str:
    return _("no limit") if value is None else plain(_("{count} per customer"), count=value)


def catalogue_admin_text(view: CatalogueAdminView) -> tuple[HTML, InlineKeyboardMarkup]:
    lines = [html(_("<b>Rewards catalogue of {shop}</b>"), shop=view.merchant_name)]
    builder = InlineKeyboardBuilder()
    if not view.items:
        lines.append(html(_("Nothing yet. Add the first reward customers can get with points.")))
    for item in view.items:
        hidden = _(" (hidden)") if item.hidden else ""
        lines.append(
            html(
                "• {name} — {price} · {stock}{hidden}",
                name=item.name,
                price=points_text(item.price),
                stock=plain(_("stock: {stock}"), stock=_stock(item.stock)),
                hidden=hidden,
            )
        )
        builder.button(text=item.name, callback_data=ItemAction(action=ItemStep.OPEN, item_id=item.item_id))
    builder.button(text=_("➕ Add a reward"), callback_data=ItemAction(action=ItemStep.ADD))
    builder.adjust(1)
    return join_html("\n", lines), builder.as_markup()


def item_text(item: ItemView) -> tuple[HTML, InlineKeyboardMarkup]:
    lines = [
        html("<b>{name}</b>", name=item.name),
        html(_("Price: {price}"), price=points_text(item.price)),
        html(_("Stock: {stock}"), stock=_stock(item.stock)),
        html(_("Limit: {limit}"), limit=_limit(item.per_customer_limit)),
        html(_("Photo: {photo}"), photo=_("yes") if item.photo_file_id else _("none")),
        html(_("Customers see it: {shown}"), shown=_("no, hidden") if item.hidden else _("yes")),
    ]
    builder = InlineKeyboardBuilder()
    for step, label in ITEM_LABELS.items():
        builder.button(text=_(label), callback_data=ItemAction(action=step, item_id=item.item_id))
    builder.button(
        text=_("👁 Show") if item.hidden else _("🙈 Hide"),
        callback_data=ItemAction(action=ItemStep.HIDE, item_id=item.item_id),
    )
    builder.button(text=_("⬆️ Move up"), callback_data=ItemAction(action=ItemStep.UP, item_id=item.item_id))
    builder.button(text=_("🗑 Delete"), callback_data=ItemAction(action=ItemStep.DELETE, item_id=item.item_id))
    builder.button(text=_("⬅️ Back"), callback_data=ItemAction(action=ItemStep.LIST))
    builder.adjust(2, 2, 2, 2, 1)
    return join_html("\n", lines), builder.as_markup()


ITEM_FORM = Guided(
    N_("🎁 New reward"),
    (
        Step("name", N_("Name"), N_("What is the reward called? Like Iced Latte (up to 48 characters).")),
        Step("price", N_("Price"), N_("Its price in points? A whole number from 1 to 1.000.000, like 50.")),
    ),
)


def item_question(step: ItemStep) -> HTML:
    match step:
        case ItemStep.NAME:
            return html(_("Send the reward's name, like Iced Latte (up to 48 characters)."))
        case ItemStep.PRICE:
            return html(_("Send its price in points, a whole number from 1 to 1.000.000."))
        case ItemStep.STOCK:
            return html(_("How many are there to give? Send a number, or - for unlimited."))
        case ItemStep.LIMIT:
            return html(_("How many may one customer get? Send a number, or - for no limit."))
        case ItemStep.PHOTO:
            return html(_("Send a photo of the reward, or - to remove it."))
    return html(_("Send the new value."))


def delete_question(item: ItemView) -> tuple[HTML, InlineKeyboardMarkup]:
    return html(
        _("Delete <b>{name}</b> from the catalogue? Rewards customers already got stay valid."),
        name=item.name,
    ), confirm_cancel(
        ItemAction(action=ItemStep.DELETE_CONFIRMED, item_id=item.item_id).pack(),
        ItemAction(action=ItemStep.OPEN, item_id=item.item_id).pack(),
    )
