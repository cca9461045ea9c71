"""Platform admins: create merchants from the chat."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message, User
from aiogram.utils.i18n import gettext as _

from kartu.loyalty.links import LinkKind, deep_link
from kartu.presenters.format import html
from kartu.services.container import Services


async def new_merchant(
    message: Message, command: CommandObject, event_from_user: User, services: Services, bot: Bot
) -> None:
    shop_name = (command.args or "").strip()
    if not shop_name:
        await message.answer(_("Send it like this: /newmerchant Kopi Senja"))
        return
    created = await services.merchants.create_merchant(shop_name, requested_by=event_from_user.id)
    username = (await bot.me()).username or ""
    await message.answer(
        html(
            _(
                "Created <b>{shop}</b>.\nOwner invite (works once, 24 hours): {owner_link}\nCustomer join link: {join_link}"
            ),
            shop=created.name,
            owner_link=deep_link(username, LinkKind.OWNER_INVITE, created.owner_invite_token or ""),
            join_link=deep_link(username, LinkKind.JOIN, created.slug),
        )
    )


def router() -> Router:
    admin = Router(name="admin")
    admin.message.register(new_merchant, Command("newmerchant"))
    return admin
