"""A level's private group, as the Bot API runs it: one-person invite links, and taking someone out
(ban, then unban, so they may come back one day with a new invite)."""

from __future__ import annotations

from datetime import datetime, timedelta

from aiogram import Bot

INVITE_LIFETIME = timedelta(days=7)  # what the customer's message says


async def one_person_link(bot: Bot, chat_id: int, user_id: int, now: datetime) -> str:
    """A link that lets one person in and lapses after `INVITE_LIFETIME` (Telegram refuses a
    member limit together with join requests, so none is asked)."""
    link = await bot.create_chat_invite_link(
        chat_id, name=f"Kartu {user_id}"[:32], expire_date=now + INVITE_LIFETIME, member_limit=1
    )
    return link.invite_link


async def take_out(bot: Bot, chat_id: int, user_id: int) -> None:
    await bot.ban_chat_member(chat_id, user_id)
    await bot.unban_chat_member(chat_id, user_id, only_if_banned=True)
