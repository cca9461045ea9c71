"""aiogram routers, one module per audience. Handlers parse, call one service, render."""

from __future__ import annotations

from aiogram import Router

from kartu.handlers import (
    admin,
    apikeys,
    bonuses,
    broadcasts,
    causes,
    common,
    customer,
    forms,
    guided,
    membership,
    menus,
    owner,
    partners,
    points,
    staff,
    tiers,
    webhooks,
    wheel,
)


def build_routers() -> list[Router]:
    """Fresh routers (a router can belong to one dispatcher only), in matching order."""
    return [
        common.commands_router(),
        menus.router(),
        admin.router(),
        forms.router(),
        guided.router(),
        owner.router(),
        broadcasts.router(),
        points.router(),
        bonuses.router(),
        tiers.router(),
        causes.router(),
        wheel.router(),
        partners.router(),
        membership.router(),
        apikeys.router(),
        webhooks.router(),
        staff.router(),
        customer.router(),
        common.fallback_router(),
    ]
