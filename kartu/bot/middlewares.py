"""Outer middlewares: the user's language for every update."""

from __future__ import annotations

from typing import Any

from aiogram.types import TelegramObject, User
from aiogram.utils.i18n.middleware import I18nMiddleware

from kartu.services.container import Services
from kartu.services.customers import TelegramProfile


class PersonLanguage(I18nMiddleware):
    """The language the person chose with /lang, else their Telegram language, else the default."""

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        user: User | None = data.get("event_from_user")
        services: Services = data["services"]
        if user is None:
            return services.customers.settings.default_language
        return await services.customers.seen(TelegramProfile(user.id, user.first_name, user.username, user.language_code))
