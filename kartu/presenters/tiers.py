"""What levels look like: the owner's /tiers screen, a group waiting for a level, and the news a
customer gets when their level changes."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from aiogram.utils.keyboard import InlineKeyboardBuilder

from kartu.loyalty.points import PERMILLE
from kartu.loyalty.tiers import Basis
from kartu.presenters.callbacks import GroupInvite, TierAction, TierStep, VipLink
from kartu.presenters.common import confirm_cancel
from kartu.presenters.format import HTML, N_, date_text, html, join_html, money_text, multiplier_text, plain
from kartu.presenters.guided import Guided, Step
from kartu.services.delivery import TierNotice
from kartu.services.tiers import GroupAdded, LevelForm, LevelView, TiersView

BUTTON_TITLE_MAX = 40


def threshold_text(value: int, basis: str) -> str:
    if basis == Basis.SPEND:
        return money_text(value)
    return plain(ngettext("{count} visit", "{count} visits", value), count=value)


def _level_line(level: LevelView, basis: str) -> HTML:
    parts = [
        html("<b>{name}</b> — {threshold}", name=level.name, threshold=threshold_text(level.threshold, basis))
    ]
    if level.multiplier_permille > PERMILLE:
        parts.append(html(_("{multiplier}× points"), multiplier=multiplier_text(level.multiplier_permille)))
    parts.append(html(ngettext("{count} member", "{count} members", level.members), count=level.members))
    if level.group_title:
        parts.append(html("🔒 {title}", title=level.group_title))
    return join_html(" · ", parts)


def tiers_text(view: TiersView) -> tuple[HTML, InlineKeyboardMarkup]:
    basis = _("by what customers spend") if view.basis == Basis.SPEND else _("by the number of visits")
    lines = [
        html(_("<b>Levels of {shop}</b>"), shop=view.merchant_name),
        html(
            ngettext(
                "Reached {basis} over the last {months} month; a level is kept {days} days after falling short.",
                "Reached {basis} over the last {months} months; a level is kept {days} days after falling short.",
                view.window_months,
            ),
            basis=basis,
            months=view.window_months,
            days=view.grace_days,
        ),
    ]
    builder = InlineKeyboardBuilder()
    if not view.levels:
        lines.append(
            html(_("No levels yet. Add the first, like Silver at 5 visits or Gold at Rp 1.000.000 a year."))
        )
    for level in view.levels:
        lines.append(join_html("", [html("• "), _level_line(level, view.basis)]))
        builder.button(text=level.name, callback_data=TierAction(action=TierStep.OPEN, tier_id=level.tier_id))
    lines.append(
        html(
            _(
                "To open a private group to a level, add this bot to the group as an admin who can invite and ban users."
            )
        )
    )
    builder.button(text=_("➕ Add a level"), callback_data=TierAction(action=TierStep.ADD))
    builder.button(
        text=_("📊 Count visits") if view.basis == Basis.SPEND else _("💰 Count spend"),
        callback_data=TierAction(action=TierStep.BASIS),
    )
    builder.button(text=_("🗓 Window"), callback_data=TierAction(action=TierStep.WINDOW))
    builder.button(text=_("⏳ Grace period"), callback_data=TierAction(action=TierStep.GRACE))
    builder.adjust(*([1] * len(view.levels)), 1, 1, 2)
    return join_html("\n", lines), builder.as_markup()


def level_text(level: LevelView, basis: str) -> tuple[HTML, InlineKeyboardMarkup]:
    lines = [
        _level_line(level, basis),
        html(_("Perks: {perks}"), perks=level.perks or _("none")),
        html(_("Private group: {group}"), group=level.group_title or _("none")),
    ]
    builder = InlineKeyboardBuilder()
    builder.button(text=_("✏️ Change"), callback_data=TierAction(action=TierStep.EDIT, tier_id=level.tier_id))
    builder.button(text=_("🎁 Perks"), callback_data=TierAction(action=TierStep.PERKS, tier_id=level.tier_id))
    builder.button(
        text=_("🗑 Delete"), callback_data=TierAction(action=TierStep.DELETE, tier_id=level.tier_id)
    )
    builder.button(text=_("⬅️ Back"), callback_data=TierAction(action=TierStep.LIST))
    builder.adjust(2, 1, 1)
    return join_html("\n", lines), builder.as_markup()


def level_form(form: LevelForm) -> Guided:
    """A level's form: its name, what reaches it (visits or spend over the window), and a points
    multiplier where the shop runs points. Changing a level says what it is now."""
    spend = form.basis == Basis.SPEND
    current = form.current
    return Guided(
        N_("🏅 Change the level") if current else N_("🏅 New level"),
        (
            Step(
                "name",
                N_("Name"),
                N_("Its name? Like Gold (up to 24 characters). Now: {name}.")
                if current
                else N_("Its name? Like Gold (up to 24 characters)."),
            ),
            Step(
                "threshold",
                N_("Reached at"),
                N_("How much spent over the window reaches it? Like 1.000.000.")
                if spend
                else N_("How many visits over the window reach it? Like 10."),
            ),
            Step(
                "multiplier",
                N_("Points"),
                N_("Points earned at this level: how many times? Like 1,5, or Skip for the usual."),
                optional=True,
                when=lambda _answers: form.runs_points,
            ),
        ),
        {"name": current.name} if current else {},
    )


def level_field_text(field: str, value: object, basis: str) -> str:
    match field:
        case "threshold":
            return threshold_text(int(str(value)), basis)
        case "multiplier":
            return plain("{multiplier}×", multiplier=multiplier_text(int(str(value))))
    return str(value)


def tier_question(step: TierStep, basis: str) -> HTML:
    match step:
        case TierStep.PERKS:
            return html(_("Send the level's perks as customers should read them, or - for none."))
        case TierStep.WINDOW:
            return html(_("Over how many months do visits or spend count? Send a number from 1 to 36."))
        case TierStep.GRACE:
            return html(
                _(
                    "How many days may a customer keep a level after falling short? Send a number from 0 to 180."
                )
            )
    return html(_("Send the new value."))


def delete_level_question(level: LevelView) -> tuple[HTML, InlineKeyboardMarkup]:
    return html(
        _("Delete the level <b>{name}</b>? Its {count} members keep their points and stamps."),
        name=level.name,
        count=level.members,
    ), confirm_cancel(
        TierAction(action=TierStep.DELETE_CONFIRMED, tier_id=level.tier_id).pack(),
        TierAction(action=TierStep.OPEN, tier_id=level.tier_id).pack(),
    )


def group_added_text(added: GroupAdded) -> tuple[HTML, InlineKeyboardMarkup | None]:
    if not added.levels:
        return html(
            _(
                "I am now an admin of <b>{title}</b>. Add a level in /tiers, then make me an admin there again to open the group to it."
            ),
            title=added.title,
        ), None
    builder = InlineKeyboardBuilder()
    for level in added.levels:
        builder.button(text=level.name, callback_data=VipLink(group_id=added.group_id, tier_id=level.tier_id))
    builder.adjust(1)
    return html(
        _(
            "I am now an admin of <b>{title}</b>. Which level opens it? Members of that level and above get a personal invite link, and nobody else can join."
        ),
        title=added.title,
    ), builder.as_markup()


def invite_label(title: str) -> str:
    shown = title if len(title) <= BUTTON_TITLE_MAX else title[: BUTTON_TITLE_MAX - 1] + "…"
    return plain(_("🔑 Join {group}"), group=shown)


def group_buttons(groups: tuple[tuple[int, str], ...]) -> InlineKeyboardMarkup | None:
    """On /card: a button per level group open to the customer (a fresh one-person link on a tap)."""
    if not groups:
        return None
    builder = InlineKeyboardBuilder()
    for tier_id, title in groups:
        builder.button(text=invite_label(title), callback_data=GroupInvite(tier_id=tier_id))
    builder.adjust(1)
    return builder.as_markup()


def group_link_text() -> HTML:
    return html(_("Your personal invite link: it lets one person in and lasts 7 days."))


def tier_notice(notice: TierNotice) -> HTML:
    lines: list[HTML] = []
    match notice.move:
        case "up":
            lines.append(
                html(
                    _("🏅 Congratulations! You are now <b>{tier}</b> at <b>{shop}</b>."),
                    tier=notice.tier,
                    shop=notice.merchant_name,
                )
            )
            if notice.runs_points and notice.multiplier_permille > PERMILLE:
                lines.append(
                    html(
                        _("You earn {multiplier}× points on every purchase."),
                        multiplier=multiplier_text(notice.multiplier_permille),
                    )
                )
            if notice.perks:
                lines.append(html(_("Your perks: {perks}"), perks=notice.perks))
        case "warn":
            until = date_text(notice.until, notice.timezone, notice.language) if notice.until else ""
            if notice.basis == Basis.SPEND:
                template = _("⏳ Spend {missing} more at <b>{shop}</b> by {date} to keep <b>{tier}</b>.")
                missing: object = money_text(notice.missing)
            else:
                template = ngettext(
                    "⏳ Visit <b>{shop}</b> {missing} more time by {date} to keep <b>{tier}</b>.",
                    "⏳ Visit <b>{shop}</b> {missing} more times by {date} to keep <b>{tier}</b>.",
                    notice.missing,
                )
                missing = notice.missing
            lines.append(
                html(template, missing=missing, shop=notice.merchant_name, date=until, tier=notice.tier)
            )
        case "down" if notice.tier:
            lines.append(
                html(
                    _(
                        "Your level at <b>{shop}</b> is now <b>{tier}</b>. Come back often to reach {previous} again."
                    ),
                    shop=notice.merchant_name,
                    tier=notice.tier,
                    previous=notice.previous,
                )
            )
        case "down":
            lines.append(
                html(
                    _(
                        "Your <b>{previous}</b> level at <b>{shop}</b> has ended. Come back often to reach it again."
                    ),
                    shop=notice.merchant_name,
                    previous=notice.previous,
                )
            )
        case "group":
            lines.append(
                html(
                    _("🔒 <b>{shop}</b> opened a members' group for <b>{tier}</b>."),
                    shop=notice.merchant_name,
                    tier=notice.tier,
                )
            )
    if notice.removals:
        lines.append(html(_("You have left the members' group that came with it.")))
    if notice.invites:
        lines.append(
            html(_("The button below is your personal invite link: it lets one person in and lasts 7 days."))
        )
    return join_html("\n", lines)
