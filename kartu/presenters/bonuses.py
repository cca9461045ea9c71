"""What customers read about bonuses: a gift on joining, on their birthday, for bringing a friend."""

from __future__ import annotations

from datetime import datetime

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from babel.dates import format_date

from kartu.presenters.customer import bonus_text
from kartu.presenters.format import HTML, date_text, html
from kartu.services.bonuses import BirthdayView, Invitation
from kartu.services.delivery import BonusNotice


def bonus_notice(notice: BonusNotice) -> HTML:
    amount = bonus_text(notice.amount, notice.unit)
    match notice.reason:
        case "birthday":
            template = _("🎂 Happy birthday from <b>{shop}</b>! Here is a gift: {bonus}.")
        case "referral_friend":
            template = _(
                "🤝 Your first purchase at <b>{shop}</b> is in, so {friend}'s invitation pays: +{bonus} for you."
            )
        case "referral_referrer":
            template = _(
                "🤝 {friend} made their first purchase at <b>{shop}</b>: +{bonus} for inviting them. Thank you!"
            )
        case _:
            template = _("🎁 <b>{shop}</b> gave you {bonus}.")
    return html(template, shop=notice.merchant_name, bonus=amount, friend=notice.friend or "—")


def invite_text(link: str, invitation: Invitation) -> HTML:
    shop = invitation.merchant_name
    if invitation.bonus.amount and not invitation.hold_days:
        return html(
            _(
                "Invite friends to <b>{shop}</b> with your link. When a friend joins through it and makes a first purchase, you both get {bonus}:\n{link}"
            ),
            shop=shop,
            bonus=bonus_text(invitation.bonus.amount, invitation.bonus.unit),
            link=link,
        )
    if invitation.bonus.amount:
        return html(
            ngettext(
                "Invite friends to <b>{shop}</b> with your link. When a friend joins through it and makes a first purchase, you both get {bonus} a day later:\n{link}",
                "Invite friends to <b>{shop}</b> with your link. When a friend joins through it and makes a first purchase, you both get {bonus} {count} days later:\n{link}",
                invitation.hold_days,
            ),
            shop=shop,
            bonus=bonus_text(invitation.bonus.amount, invitation.bonus.unit),
            count=invitation.hold_days,
            link=link,
        )
    return html(_("Invite friends to <b>{shop}</b> with your link:\n{link}"), shop=shop, link=link)


def birthday_day(view: BirthdayView, locale: str) -> str:
    return format_date(datetime(2024, view.month, view.day), format="d MMMM", locale=locale)


def birthday_text(view: BirthdayView | None, locale: str) -> HTML:
    """What /birthday says: the question, or the day kept and until when it stays."""
    if view is None:
        return html(
            _(
                "When is your birthday? Send the day and month, like 17-08 or 17 Agustus. Only day and month are kept."
            )
        )
    if view.changeable_from is not None:
        return html(
            _("Your birthday is kept as <b>{day}</b>. It can be changed again from {date}."),
            day=birthday_day(view, locale),
            date=date_text(view.changeable_from, "UTC", locale),
        )
    return html(
        _("Your birthday is kept as <b>{day}</b>. To change it, send the day and month, like 17-08."),
        day=birthday_day(view, locale),
    )


def birthday_saved(view: BirthdayView, locale: str) -> HTML:
    return html(_("🎂 Saved: <b>{day}</b>. It can be changed once a year."), day=birthday_day(view, locale))
