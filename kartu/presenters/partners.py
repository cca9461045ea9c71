"""What partner vouchers look like: the owner's /partners screen and proposal form, a proposal to
accept, the news between owners, a customer's voucher, the monthly settlement."""

from __future__ import annotations

from dataclasses import replace

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from aiogram.utils.keyboard import InlineKeyboardBuilder

from kartu.loyalty.codes import format_code
from kartu.loyalty.partners import Condition
from kartu.presenters.callbacks import PartnerAction, PartnerStep
from kartu.presenters.common import confirm_cancel
from kartu.presenters.format import HTML, N_, date_text, html, join_html, money_text, plain
from kartu.presenters.guided import Guided, Step
from kartu.services.delivery import (
    PartnerNewsNotice,
    PartnerOfferNotice,
    PartnerVoucherNotice,
    SettlementNotice,
)
from kartu.services.partners import PartnersView, PartnerView


def condition_text(condition: str, value: int) -> str:
    if condition == Condition.AMOUNT:
        return plain(_("one purchase of {amount} or more"), amount=money_text(value))
    return plain(ngettext("every visit", "every {count} visits", value), count=value)


def _terms_lines(voucher: str, value: int, terms: str, days: int, cap: int) -> list[HTML]:
    lines = [
        html(
            _("Voucher: <b>{voucher}</b> (worth {value} in the settlement)"),
            voucher=voucher,
            value=money_text(value),
        ),
        html(
            _("Valid {days} days after it is given; at most {cap} a month."),
            days=days,
            cap=cap,
        ),
    ]
    if terms:
        lines.append(html(_("Terms: {terms}"), terms=terms))
    return lines


def _partner_line(view: PartnerView) -> HTML:
    if view.outgoing:
        text = _("→ Your customers get <b>{voucher}</b> at <b>{other}</b> for {condition}.")
    else:
        text = _("← Customers of <b>{other}</b> get <b>{voucher}</b> here for {condition}.")
    line = html(
        text,
        voucher=view.voucher,
        other=view.other_name,
        condition=condition_text(view.condition, view.condition_value),
    )
    if view.our_outlet:  # one outlet's partnership
        line = join_html(" ", [line, html(_("(📍 {outlet} only)"), outlet=view.our_outlet)])
    if view.status == "proposed":
        return join_html(" ", [line, html(_("(waiting for an answer)"))])
    return join_html(
        " ",
        [
            line,
            html(_("This month: {issued} of {cap}."), issued=view.issued_this_month, cap=view.monthly_cap),
        ],
    )


def partners_text(view: PartnersView) -> tuple[HTML, InlineKeyboardMarkup]:
    lines = [html(_("🤝 <b>Partners of {shop}</b>"), shop=view.merchant_name)]
    lines.append(html(_("Other shops name you by your shop code: <code>{slug}</code>"), slug=view.slug))
    lines.append(
        html(_("Address on vouchers: {address}"), address=view.address or _("none"))
        if not view.has_location
        else html(_("Address on vouchers: {address} (with a map)"), address=view.address or _("none"))
    )
    builder = InlineKeyboardBuilder()
    if not view.partnerships:
        lines.append(
            html(
                _(
                    "No partners yet. Propose one: your customers get another shop's voucher, and the other way round if they propose too."
                )
            )
        )
    for partnership in view.partnerships:
        lines.append(_partner_line(partnership))
        if partnership.status == "proposed" and not partnership.outgoing:
            builder.button(
                text=plain(_("✅ Accept {shop}"), shop=partnership.other_name),
                callback_data=PartnerAction(
                    action=PartnerStep.ACCEPT, partnership_id=partnership.partnership_id
                ),
            )
            builder.button(
                text=_("✖️ Decline"),
                callback_data=PartnerAction(
                    action=PartnerStep.DECLINE, partnership_id=partnership.partnership_id
                ),
            )
        builder.button(
            text=plain(_("⏹ End with {shop}"), shop=partnership.other_name),
            callback_data=PartnerAction(action=PartnerStep.END, partnership_id=partnership.partnership_id),
        )
    builder.button(
        text=_("➕ Propose a partnership"), callback_data=PartnerAction(action=PartnerStep.PROPOSE)
    )
    builder.button(text=_("📍 Address"), callback_data=PartnerAction(action=PartnerStep.ADDRESS))
    builder.button(text=_("🗺 Location"), callback_data=PartnerAction(action=PartnerStep.LOCATION))
    builder.button(text=_("📄 Vouchers (CSV)"), callback_data=PartnerAction(action=PartnerStep.VOUCHERS))
    builder.adjust(1)
    return join_html("\n", lines), builder.as_markup()


def partner_question(step: str) -> HTML:
    match step:
        case "address":
            return html(_("Send your shop's address as customers should read it on vouchers, or - for none."))
        case "location":
            return html(
                _("Send your shop's location (📎 → Location), so vouchers can show how to get there.")
            )
    return html(_("Send the new value."))


PROPOSAL_FORM = Guided(
    N_("🤝 Propose a partnership"),
    (
        Step(
            "shop",
            N_("Partner"),
            N_("Which shop? Send its shop code (the owner sees it in /partners) or its join link."),
            takes_code=True,
        ),
        Step(
            "condition",
            N_("Earned by"),
            N_(
                "What must your customers do here to get the partner's voucher? Send over 500.000 (one purchase of at least that) or 5 visits."
            ),
        ),
        Step(
            "voucher", N_("Voucher"), N_("What does the voucher give at the partner? Like 10% off any ring.")
        ),
        Step(
            "value", N_("Worth"), N_("What is it worth in rupiah, for the monthly settlement? Like 50.000.")
        ),
        Step("terms", N_("Terms"), N_("Any terms? Like not with other promotions, or Skip."), optional=True),
        Step("days", N_("Valid for"), N_("For how many days is a voucher valid? Like 30.")),
        Step("cap", N_("A month at most"), N_("How many vouchers a month at most? Like 100.")),
    ),
)


def proposal_form(outlets: tuple[tuple[int, str], ...]) -> Guided:
    """The proposal's form; a business with several outlets also says which outlet gives the voucher."""
    if not outlets:
        return PROPOSAL_FORM
    where = Step(
        "outlet",
        N_("Given at"),
        N_("Which of your outlets gives the voucher? An outlet's partnership suits a neighbour in its mall."),
        choices=(("all", N_("🏢 All outlets")), *((str(outlet_id), name) for outlet_id, name in outlets)),
    )
    return replace(PROPOSAL_FORM, steps=(PROPOSAL_FORM.steps[0], where, *PROPOSAL_FORM.steps[1:]))


def proposal_field_text(field: str, value: object) -> str:
    """How the proposal's summary shows one answer."""
    match field:
        case "outlet":
            return str(value) or _("🏢 All outlets")
        case "condition" if isinstance(value, tuple):
            return condition_text(str(value[0]), int(value[1]))
        case "value":
            return money_text(int(str(value)))
        case "days":
            return plain(ngettext("{count} day", "{count} days", int(str(value))), count=int(str(value)))
        case "cap":
            return plain(_("{count} a month"), count=int(str(value)))
    return str(value) or _("—")


def end_question(shop: str, partnership_id: int) -> tuple[HTML, InlineKeyboardMarkup]:
    return html(
        _("End the partnership with <b>{shop}</b>? Vouchers already given stay valid until they expire."),
        shop=shop,
    ), confirm_cancel(
        PartnerAction(action=PartnerStep.END_CONFIRMED, partnership_id=partnership_id).pack(),
        PartnerAction(action=PartnerStep.SHOW).pack(),
    )


def partner_offer_notice(notice: PartnerOfferNotice) -> tuple[HTML, InlineKeyboardMarkup]:
    text = join_html(
        "\n",
        [
            html(
                _(
                    "🤝 <b>{shop}</b> proposes a partnership: their customers get your voucher for {condition}."
                ),
                shop=notice.from_shop,
                condition=condition_text(notice.condition, notice.condition_value),
            ),
            *_terms_lines(
                notice.voucher, notice.voucher_value, notice.terms, notice.valid_days, notice.monthly_cap
            ),
            html(_("Your staff redeem it as any reward code.")),
        ],
    )
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("✅ Accept"),
        callback_data=PartnerAction(action=PartnerStep.ACCEPT, partnership_id=notice.partnership_id),
    )
    builder.button(
        text=_("✖️ Decline"),
        callback_data=PartnerAction(action=PartnerStep.DECLINE, partnership_id=notice.partnership_id),
    )
    return text, builder.as_markup()


def partner_news_notice(notice: PartnerNewsNotice) -> HTML:
    match notice.event:
        case "active":
            template = _(
                "🤝 <b>{shop}</b> accepted your partnership. Your customers get its voucher from now on."
            )
        case "declined":
            template = _("<b>{shop}</b> declined your partnership proposal.")
        case _:
            template = _(
                "<b>{shop}</b> ended your partnership. Vouchers already given stay valid until they expire."
            )
    return html(template, shop=notice.other_shop)


def partner_voucher_notice(notice: PartnerVoucherNotice) -> HTML:
    lines = [
        html(
            _("🎁 A gift from <b>{from_shop}</b>'s partner: <b>{voucher}</b> at <b>{to_shop}</b>."),
            from_shop=notice.from_shop,
            voucher=notice.voucher,
            to_shop=notice.to_shop,
        ),
        html(_("Show this code there: <code>{code}</code>"), code=format_code(notice.code)),
        html(_("Valid until {date}."), date=date_text(notice.expires_at, notice.timezone, notice.language)),
    ]
    if notice.address:
        lines.append(html("📍 {address}", address=notice.address))
    if notice.terms:
        lines.append(html(_("Terms: {terms}"), terms=notice.terms))
    return join_html("\n", lines)


def settlement_notice(notice: SettlementNotice) -> HTML:
    return html(
        _(
            "📄 Partner vouchers {month}, <b>{from_shop}</b> → <b>{to_shop}</b>: {issued} given, {redeemed} used, worth {value}. Details: /partners → 📄"
        ),
        month=notice.month,
        from_shop=notice.from_shop,
        to_shop=notice.to_shop,
        issued=notice.issued,
        redeemed=notice.redeemed,
        value=money_text(notice.value),
    )
