"""The owner's /webhooks screen: the shop's endpoints, their state, the secret of a new one."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as N_
from aiogram.utils.keyboard import InlineKeyboardBuilder

from kartu.loyalty.webhooks import EVENTS
from kartu.presenters.callbacks import HookAction, HookStep
from kartu.presenters.format import HTML, date_text, html, join_html, plain
from kartu.services.webhooks import EndpointView

STATES = {"active": N_("✅ active"), "paused": N_("⏸ paused")}
EVENT_LABELS = {
    "member.joined": N_("a customer joins"),
    "purchase.credited": N_("a purchase is credited"),
    "purchase.refunded": N_("a purchase is refunded"),
    "reward.issued": N_("a reward is issued"),
    "reward.redeemed": N_("a reward is used"),
    "points.expired": N_("points lapse"),
    "survey.answered": N_("a survey is answered"),
    "reward.voided": N_("a refund voids a reward"),
}


def webhooks_text(
    endpoints: list[EndpointView], timezone: str, locale: str
) -> tuple[HTML, InlineKeyboardMarkup]:
    lines = [
        html(
            _(
                "<b>Webhooks</b>: your own systems hear of joins, purchases, rewards, expired points and survey answers, signed with a secret."
            )
        )
    ]
    builder = InlineKeyboardBuilder()
    if not endpoints:
        lines.append(html(_("None yet.")))
    for number, endpoint in enumerate(endpoints, 1):
        lines.append(
            html(
                _("{number}. <code>{url}</code> — {state}, {pending} waiting"),
                number=number,
                url=endpoint.url,
                state=str(STATES.get(endpoint.status, endpoint.status)),
                pending=endpoint.backlog,
            )
        )
        if endpoint.failing_since is not None:
            lines.append(
                html(
                    _("   failing since {date}: {error}"),
                    date=date_text(endpoint.failing_since, timezone, locale),
                    error=endpoint.last_error or "",
                )
            )
        step = HookStep.RESUME if endpoint.status == "paused" else HookStep.PAUSE
        label = _("▶️ Resume {number}") if step == HookStep.RESUME else _("⏸ Pause {number}")
        builder.button(
            text=plain(label, number=number),
            callback_data=HookAction(action=step, endpoint_id=endpoint.endpoint_id),
        )
        builder.button(
            text=plain(_("🔔 Events {number}"), number=number),
            callback_data=HookAction(action=HookStep.EVENTS, endpoint_id=endpoint.endpoint_id),
        )
        builder.button(
            text=plain(_("🔑 New secret {number}"), number=number),
            callback_data=HookAction(action=HookStep.ROTATE, endpoint_id=endpoint.endpoint_id),
        )
        builder.button(
            text=plain(_("🗑 Delete {number}"), number=number),
            callback_data=HookAction(action=HookStep.DELETE, endpoint_id=endpoint.endpoint_id),
        )
    builder.button(text=_("➕ Add a webhook"), callback_data=HookAction(action=HookStep.ADD))
    builder.adjust(*([2, 2] * len(endpoints)), 1)
    return join_html("\n", lines), builder.as_markup()


def url_question() -> HTML:
    return html(
        _(
            "Send the address that should receive the events, like https://pos.example.com/kartu. /cancel stops."
        )
    )


def new_webhook_text(endpoint: EndpointView, secret: str) -> HTML:
    return html(
        _(
            "Webhook added: <code>{url}</code>\nIts signing secret, shown only this once (any Standard Webhooks library checks the webhook-signature header with it; the README shows how):\n<code>{secret}</code>"
        ),
        url=endpoint.url,
        secret=secret,
    )


def rotated_text(endpoint: EndpointView, secret: str) -> HTML:
    return html(
        _(
            "New signing secret for <code>{url}</code>, shown only this once:\n<code>{secret}</code>\nFor a day the old secret signs each delivery too: switch your check to the new one now (any Standard Webhooks library checks the webhook-signature header)."
        ),
        url=endpoint.url,
        secret=secret,
    )


def events_text(endpoint: EndpointView) -> tuple[HTML, InlineKeyboardMarkup]:
    """One endpoint's events: tap one to take it or leave it."""
    builder = InlineKeyboardBuilder()
    for index, event in enumerate(EVENTS):
        mark = "✅" if event in endpoint.events else "▫️"
        builder.button(
            text=plain("{mark} {event} — {label}", mark=mark, event=event, label=str(EVENT_LABELS[event])),
            callback_data=HookAction(action=HookStep.TOGGLE, endpoint_id=endpoint.endpoint_id, event=index),
        )
    builder.button(text=_("⬅️ Back"), callback_data=HookAction(action=HookStep.BACK))
    builder.adjust(1)
    text = html(
        _("Events for <code>{url}</code>: tap one to take it or leave it."),
        url=endpoint.url,
    )
    return text, builder.as_markup()
