"""A WhatsApp customer's messages, handled as Telegram's handlers do: parse (with pywa), call one
service function, answer with a screen. Who writes is their business-scoped id, never a button's
data: every tap is checked against them (a leave names a shop they must hold a card at). Nobody
is kept until they agree to the shop's messages; staff stay on Telegram and confirm a WhatsApp
customer's code as any other."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import TYPE_CHECKING

from aiogram.filters.callback_data import CallbackData
from aiogram.utils.i18n import gettext as _
from pywa.types import CallbackButton, CallbackSelection, Message, MessageStatus, RawUpdate
from pywa_async import WhatsApp

from kartu.bot.i18n import KartuI18n
from kartu.channels.whatsapp.sender import For, WhatsAppSender
from kartu.channels.whatsapp.text import whatsapp_text
from kartu.channels.whatsapp.words import Typed, read
from kartu.handlers.points import rewards_screen
from kartu.loyalty.channels import whatsapp_user
from kartu.loyalty.errors import LoyaltyError, NotMember, PromptClosed, UnknownMerchant
from kartu.loyalty.language import SUPPORTED_LANGUAGES
from kartu.presenters.callbacks import (
    CatalogueChoice,
    CatalogueStep,
    DataAction,
    DataStep,
    ExchangeAction,
    ReturnReward,
    ShowCatalogue,
    SurveyAnswer,
    WhyChange,
)
from kartu.presenters.common import APOLOGY
from kartu.presenters.conversation import (
    DECLINE,
    JOIN,
    LANGUAGE,
    MENU,
    consent_declined,
    consent_question,
    how_to_join,
    language_question,
    linked,
    menu_screen,
    my_data_caption,
    unknown_shop,
)
from kartu.presenters.customer import (
    card_caption,
    card_photo,
    code_text,
    forget_question,
    join_welcome,
    leave_question,
    opted_out_text,
    qr_photo,
    why_text,
)
from kartu.presenters.format import HTML, html
from kartu.presenters.points import exchanged_text, offer_text, returned_text
from kartu.presenters.refusals import explain
from kartu.presenters.screens import Screen
from kartu.services.container import Services
from kartu.services.customers import ChannelPerson, Visitor

if TYPE_CHECKING:
    from kartu.scheduler.dispatcher import OutboxDispatcher

log = logging.getLogger(__name__)


class WhatsAppConversation:
    def __init__(self, client: WhatsApp, services: Services, i18n: KartuI18n, sender: WhatsAppSender) -> None:
        self.client = client
        self.services = services
        self.i18n = i18n
        self.sender = sender
        self.courier: OutboxDispatcher | None = None  # the bot's: news a tap set off goes out at once

    async def handle(self, event_id: str, payload: str) -> None:
        """One journaled event (as posted, cut down to itself: webhook.py): a customer's message or
        tap, or a status of a message sent."""
        update = RawUpdate(payload.encode(), hmac_header=None, update_hash=event_id)
        value = update["entry"][0]["changes"][0]["value"]
        if value.get("statuses"):
            await self._status(MessageStatus.from_update(self.client, update))
            return
        kind = value["messages"][0].get("type")
        interactive = value["messages"][0].get("interactive", {}).get("type")
        if kind == "interactive" and interactive == "button_reply":
            tap = CallbackButton.from_update(self.client, update)
            await self._message(
                tap.from_user.bsuid,
                tap.from_user.name,
                tap.from_user.wa_id,
                tap.timestamp,
                None,
                tap.data,
                tap.id,
            )
        elif kind == "interactive" and interactive == "list_reply":
            choice = CallbackSelection.from_update(self.client, update)
            user = choice.from_user
            await self._message(
                user.bsuid, user.name, user.wa_id, choice.timestamp, None, choice.data, choice.id
            )
        else:
            message = Message.from_update(self.client, update)
            user = message.from_user
            await self._message(
                user.bsuid, user.name, user.wa_id, message.timestamp, message.text or "", None, message.id
            )

    async def _status(self, status: MessageStatus) -> None:
        pricing = status.pricing
        await self.services.whatsapp.status(
            status.id,
            str(status.status),
            str(pricing.category) if pricing else None,
            pricing.billable if pricing else None,
        )
        if status.error is not None:
            log.warning("WhatsApp message %s failed: %s", status.id, status.error)

    async def _message(
        self,
        bsuid: str | None,
        name: str | None,
        phone: str | None,
        at: datetime,
        text: str | None,
        data: str | None,
        message_id: str,
    ) -> None:
        if not bsuid:
            log.warning("WhatsApp message %s names no sender: ignored", message_id)
            return
        user = whatsapp_user(bsuid)
        customers = self.services.customers
        known = await customers.arrival(user, at)
        typed = read(text) if text is not None else None
        language = (
            (known.language if known else None)
            or (typed.language if typed else None)
            or _joining_in(data)
            or self.services.customers.settings.default_language
        )
        to = For(bsuid, known.person_id if known else None)
        visitor = Visitor(user, (name or "").strip()[:64] or "WhatsApp", language, phone)
        with self.i18n.context(), self.i18n.use_locale(language):
            try:
                await self._answer(to, visitor, known, typed, data)
            except NotMember:
                await self._say(to, how_to_join())
            except LoyaltyError as error:  # the same polite sentence as on Telegram
                await self._say(to, html("{refusal}", refusal=explain(error)))
            except Exception:
                log.exception("WhatsApp message %s from %s failed", message_id, bsuid)
                await self.sender.screen(to, Screen(html(_(APOLOGY))))
        try:
            await self.sender.read(message_id)
        except Exception as error:  # two blue ticks are a courtesy
            log.info("could not mark %s read: %s", message_id, error)

    async def _answer(
        self, to: For, visitor: Visitor, known: ChannelPerson | None, typed: Typed | None, data: str | None
    ) -> None:
        if typed is not None and typed.join:
            await self._ask_consent(to, typed.join, visitor.language)
            return
        if typed is not None and typed.link:
            first_name, language = await self.services.customers.link(visitor, typed.link)
            with self.i18n.use_locale(language):  # theirs from Telegram, from now on
                await self._say(to, linked(first_name))
                await self.sender.screen(to, menu_screen())
            return
        if data and data.startswith(JOIN):
            await self._join(to, visitor, data.removeprefix(JOIN).partition(":")[0])
            return
        if data and data.startswith(DECLINE):
            await self._say(to, consent_declined())
            return
        if known is None or not known.consented or known.shop is None:
            await self._say(to, how_to_join())
            return
        command = typed.command if typed is not None else None
        if data and data.startswith(MENU):
            command = data.removeprefix(MENU)
        if data and data.startswith(LANGUAGE):
            await self._set_language(to, visitor, data.removeprefix(LANGUAGE))
            return
        step = _unpack(DataAction, data)
        if isinstance(step, DataAction):
            await self._data_step(to, visitor, step)
            return
        answer = _unpack(SurveyAnswer, data)
        if isinstance(answer, SurveyAnswer):
            await self._rate(to, visitor, answer)
            return
        why = _unpack(WhyChange, data)
        if isinstance(why, WhyChange):  # ❓ Why? under a card's news
            explained = await self.services.customers.why(visitor.user, why.news_id)
            await self._say(to, why_text(explained, visitor.language))
            return
        if await self._points_tap(to, visitor, data):
            return
        await self._command(to, visitor, command)

    async def _command(self, to: For, visitor: Visitor, command: str | None) -> None:
        customers, user = self.services.customers, visitor.user
        if command == "card":
            card = await customers.card(user)
            caption = whatsapp_text(card_caption(card, visitor.language))
            if card.runs_stamps:
                picture = await card_photo(card)
                await self.sender.image(to, picture.file.data, caption)
            else:
                await self.sender.image(
                    to, (await qr_photo(card.personal_code, card.merchant_name)).data, caption
                )
        elif command == "code":
            card = await customers.card(user)
            photo = await qr_photo(card.personal_code, card.merchant_name)
            await self.sender.image(to, photo.data, whatsapp_text(code_text(card)))
        elif command == "rewards":
            await self.sender.screen(to, await self._rewards(visitor))
        elif command == "stop":
            await self._say(to, opted_out_text(await customers.stop_promotions(user)))
        elif command == "lang":
            await self.sender.screen(to, language_question())
        elif command == "mydata":
            data = await customers.my_data(user)
            body = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
            await self.sender.document(
                to, body, "kartu-my-data.json", whatsapp_text(my_data_caption()), "application/json"
            )
        elif command == "leave":
            await self.sender.screen(to, leave_question(await customers.leaving(user)))
        elif command == "forget":
            await self.sender.screen(to, forget_question())
        else:
            await self.sender.screen(to, menu_screen())

    async def _ask_consent(self, to: For, slug: str, language: str) -> None:
        shop = await self.services.merchants.shop_by_code(slug)
        if shop is None:
            await self._say(to, unknown_shop(slug))
            return
        await self.sender.screen(to, consent_question(shop, slug, language))

    async def _join(self, to: For, visitor: Visitor, slug: str) -> None:
        try:
            joined = await self.services.customers.join_by_channel(visitor, slug)
        except UnknownMerchant:
            await self._say(to, unknown_shop(slug))
            return
        to = For(to.address, joined.person_id, joined.merchant_id)
        await self._say(to, join_welcome(joined))
        card = joined.card
        if card.runs_stamps:
            picture = await card_photo(card)
            await self.sender.image(
                to, picture.file.data, whatsapp_text(card_caption(card, visitor.language))
            )
        await self.sender.screen(to, menu_screen())

    async def _set_language(self, to: For, visitor: Visitor, language: str) -> None:
        if language not in SUPPORTED_LANGUAGES:
            await self.sender.screen(to, menu_screen())
            return
        await self.services.customers.choose_language(visitor.user, language)
        with self.i18n.use_locale(language):
            await self._say(to, html(_("Language set to English.")))

    async def _rewards(self, visitor: Visitor) -> Screen:
        return await rewards_screen(visitor.user, self.services, visitor.language)

    async def _points_tap(self, to: For, visitor: Visitor, data: str | None) -> bool:
        """A tap on the catalogue: a reward chosen, got or given back; ``False``: not one of these."""
        points, user = self.services.points, visitor.user
        tap = _unpack(CatalogueChoice, data) or _unpack(ExchangeAction, data) or _unpack(ReturnReward, data)
        if isinstance(tap, CatalogueChoice):
            await self.sender.screen(to, offer_text(await points.offer(user, tap.item_id)))
        elif isinstance(tap, ExchangeAction) and tap.action == CatalogueStep.BACK:
            await self.sender.screen(to, await self._rewards(visitor))
        elif isinstance(tap, ExchangeAction):
            result = await points.exchange(user, tap.token)
            await self._say(to, exchanged_text(result))
            if self.courier is not None:  # the reward code, now (else the scheduler's next round)
                await self.courier.deliver_now(result.news)
        elif isinstance(tap, ReturnReward):
            await self._say(to, returned_text(await points.give_back(user, tap.reward_id)))
        elif _unpack(ShowCatalogue, data) is not None:
            await self.sender.screen(to, await self._rewards(visitor))
        else:
            return False
        return True

    async def _rate(self, to: For, visitor: Visitor, answer: SurveyAnswer) -> None:
        """A survey's stars (their comment is asked on Telegram only: here the stars are the answer)."""
        feedback = self.services.feedback
        try:
            if answer.rating == 0:
                await feedback.comment(visitor.user, answer.survey_id, None)
            else:
                await feedback.rate(visitor.user, answer.survey_id, answer.rating)
                await feedback.comment(visitor.user, answer.survey_id, None)  # low ratings' alerts go now
        except PromptClosed:
            await self._say(to, html(_("Nothing was changed.")))
            return
        await self._say(to, html(_("Thank you for your feedback!")))

    async def _data_step(self, to: For, visitor: Visitor, step: DataAction) -> None:
        customers = self.services.customers
        if step.action == DataStep.LEAVE:
            try:
                shop = await customers.leave(visitor.user, step.merchant_id)
            except PromptClosed:
                await self._say(to, html(_("Nothing was changed.")))
                return
            await self._say(
                to,
                html(
                    _("You left <b>{shop}</b>. Open its link again any time to start a new card."), shop=shop
                ),
            )
        elif step.action == DataStep.FORGET:
            await customers.forget(visitor.user)
            await self._say(
                to,
                html(
                    _(
                        "Done: your personal data is erased. If you write to me again, I will treat you as someone new."
                    )
                ),
            )
        else:
            await self._say(to, html(_("Nothing was changed.")))

    async def _say(self, to: For, text: HTML) -> None:
        await self.sender.screen(to, Screen(text))


def _joining_in(data: str | None) -> str | None:
    """The language the consent question was shown in (the person is not known yet)."""
    if not data or not data.startswith((JOIN, DECLINE)):
        return None
    language = data.rpartition(":")[2]
    return language if language in SUPPORTED_LANGUAGES else None


def _unpack(kind: type[CallbackData], data: str | None) -> CallbackData | None:
    if not data:
        return None
    try:
        return kind.unpack(data)
    except (ValueError, TypeError):
        return None
