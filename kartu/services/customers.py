"""What customers do: join, look at their card, code and rewards, pick a language."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from kartu.loyalty.channels import LINK_LIFETIME, Caller, Channel, ChannelUser, link_code_hash, new_link_code
from kartu.loyalty.codes import anonymous_code, new_personal_code, normalize_code
from kartu.loyalty.delivery import Kind
from kartu.loyalty.errors import (
    HasOwnCard,
    InviteForSomeoneElse,
    InviteInvalid,
    LinkCodeInvalid,
    NotMember,
    PromptClosed,
    UnknownMerchant,
)
from kartu.loyalty.language import SUPPORTED_LANGUAGES, resolve_language
from kartu.loyalty.links import LinkKind, parse_payload
from kartu.loyalty.messaging import KEEP_WAITING, WINDOW
from kartu.loyalty.privacy import SECRET_NAME, forgotten_digest
from kartu.loyalty.receipts import MISS_WINDOW, ReceiptRefused, may_try, refusal, state_of, token_hash
from kartu.loyalty.staff import Role, where_name
from kartu.loyalty.why import Row, Why, reasons
from kartu.services.access import acting_member, keep_an_owner, require_member
from kartu.services.after_purchase import after_purchase
from kartu.services.base import ServiceBase, card_view, kinds_of, next_level, server_key
from kartu.services.bonuses import Bonus, record_referral, unit_of, welcome
from kartu.services.crediting import PurchaseResult
from kartu.services.till import Till, credit_at_till
from kartu.services.views import CardView, MenuView, RewardView
from kartu.services.webhooks import tell
from kartu.storage import channels, journal
from kartu.storage.arrivals import Sender, arrive
from kartu.storage.models import ChannelLink, Contact, Merchant, Person, Receipt
from kartu.storage.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class JoinResult:
    card: CardView
    newly_joined: bool
    first_name: str
    opted_in_again: bool = False
    welcome_bonus: Bonus | None = None  # given on joining
    referral_bonus: Bonus | None = None  # promised to a friend who came through an invite, after a purchase
    invited_by: str | None = None
    referral_hold_days: int = 0  # the bonus comes this long after the first purchase (the return window)
    person_id: int = 0
    merchant_id: int = 0


@dataclass(frozen=True)
class InviteResult:
    merchant_name: str
    role: str
    still_acting_for: str | None = None  # they work elsewhere too and keep acting there until /shop


@dataclass(frozen=True)
class LeavePreview:
    merchant_id: int
    merchant_name: str
    stamps: int
    open_rewards: int


@dataclass(frozen=True)
class TelegramProfile:
    """The parts of a Telegram user Kartu keeps."""

    telegram_id: int
    first_name: str
    username: str | None = None
    language_code: str | None = None


@dataclass(frozen=True)
class Visitor:
    """Someone writing on another messenger, as it shows them: their identity there, the name
    they gave it, their phone where the messenger shares it, the language to speak."""

    user: ChannelUser
    name: str
    language: str
    phone: str | None = None


@dataclass(frozen=True)
class ChannelPerson:
    """A person who writes on another messenger: their current shop, and whether they agreed to
    its messages."""

    person_id: int
    first_name: str
    language: str | None
    shop: str | None
    consented: bool


@dataclass(frozen=True)
class StartOutcome:
    """What ``/start`` led to: a join, an accepted invite, or only a greeting."""

    joined: JoinResult | None = None
    invite: InviteResult | None = None
    known_merchants: int = 0


@dataclass(frozen=True)
class ReceiptClaim:
    """A receipt claimed through its link: the person's join (new to the shop or not) and the
    sale credited (its news is the caller's to deliver once committed)."""

    joined: JoinResult
    result: PurchaseResult
    amount: int | None


@dataclass(frozen=True)
class Arrival:
    """An update as it comes in: new or delivered again, the sender's language and open form."""

    first_time: bool
    language: str
    state: str | None
    state_updated_at: datetime | None
    menu: MenuView | None = None  # the screens they get, when read on arrival


class CustomerService(ServiceBase):
    async def _ensure_person(self, uow: UnitOfWork, profile: TelegramProfile) -> Person:
        person = await uow.people.by_telegram_id(profile.telegram_id)
        first_name = (profile.first_name or "")[:64]
        if person is None:
            return await uow.people.add_with_unique_code(
                lambda: Person(
                    telegram_id=profile.telegram_id,
                    first_name=first_name,
                    username=(profile.username or None) and profile.username[:64],
                    telegram_language=(profile.language_code or None) and profile.language_code[:16],
                    personal_code=new_personal_code(),
                    created_at=self.clock.now(),
                )
            )
        if _profile_changed(person, profile):
            person.first_name = first_name
            person.username = profile.username and profile.username[:64]
            person.telegram_language = profile.language_code and profile.language_code[:16]
            await uow.people.save(person)
        return person

    async def _join(
        self,
        uow: UnitOfWork,
        person: Person,
        merchant: Merchant,
        referrer_id: int | None = None,
        outlet_id: int | None = None,
    ) -> JoinResult:
        now = self.clock.now()
        card, created = await uow.cards.get_or_add(merchant.id, person.id, now)
        if created and outlet_id is not None:  # joined by that outlet's link: its figures count them
            card.joined_outlet_id = outlet_id
            uow.session.add(card)
        program = await uow.programs.for_merchant(merchant.id)
        # Someone back after /forget is new to the shop, but not to its bonuses.
        first_time = created and not await self._forgot_here_before(
            uow, merchant.id or 0, await _identity(uow, person)
        )
        bonus = await welcome(uow, now, merchant, program, person) if first_time else None
        if created:
            await tell(
                uow,
                now,
                merchant.id or 0,
                "member.joined",
                str(card.id),
                person,
                {"joined_at": now.isoformat()},
            )
        invited_by, promised = None, None
        if referrer_id is not None and await record_referral(
            uow, now, merchant, referrer_id, person, first_time
        ):
            referrer = await uow.people.get(referrer_id)
            invited_by = referrer.first_name if referrer else None
            promised = Bonus(program.referral_bonus, unit_of(program)) if program.referral_bonus else None
        if bonus is not None and bonus.amount:
            await uow.session.refresh(card)
        opted_in_again = card.promotions_opt_out
        if opted_in_again:  # opening this shop's link after /stop opts back in to this shop only
            await uow.cards.set_opt_out(card, False)
        if person.current_merchant_id != merchant.id:
            person.current_merchant_id = merchant.id
            await uow.people.save(person)
        view = await card_view(uow, self.clock.now(), person, merchant, card, program)
        return JoinResult(
            card=view,
            newly_joined=created,
            first_name=person.first_name,
            opted_in_again=opted_in_again,
            welcome_bonus=bonus if bonus is not None and bonus.amount else None,
            referral_bonus=promised,
            invited_by=invited_by,
            referral_hold_days=program.referral_hold_days,
            person_id=person.id or 0,
            merchant_id=merchant.id or 0,
        )

    async def start(self, profile: TelegramProfile, payload: str | None) -> StartOutcome:
        """``/start`` with or without a deep-link payload."""
        link = parse_payload(payload)
        if payload and link is None:
            raise UnknownMerchant()
        async with self.db.write() as uow:
            if link is not None and link.kind in (LinkKind.STAFF_INVITE, LinkKind.OWNER_INVITE):
                return StartOutcome(invite=await self._accept_invite(uow, profile, link.value))
            if link is not None and link.kind is LinkKind.REFERRAL:
                referrer_card = await uow.cards.by_invite_token(link.value)
                merchant = await uow.merchants.get(referrer_card.merchant_id) if referrer_card else None
                if referrer_card is None or merchant is None:
                    raise UnknownMerchant()
                person = await self._ensure_person(uow, profile)
                return StartOutcome(joined=await self._join(uow, person, merchant, referrer_card.person_id))
            if link is not None:  # a business's link, an outlet's, or one of a shop merged into a business
                found = await uow.merchants.joinable(link.value, outlet=link.kind is LinkKind.OUTLET)
                if found is None:
                    raise UnknownMerchant()
                merchant, outlet_id = found
                person = await self._ensure_person(uow, profile)
                return StartOutcome(joined=await self._join(uow, person, merchant, outlet_id=outlet_id))
            known = await uow.people.by_telegram_id(profile.telegram_id)
            if known is not None and known.current_merchant_id is None:
                # Staff and owners who never joined as customers are greeted in their role.
                places = await uow.staff.workplaces(known.id)
                if places:
                    await self._ensure_person(uow, profile)
                    merchant = await uow.merchants.get(places[0].merchant_id)
                    assert merchant is not None
                    return StartOutcome(invite=InviteResult(merchant_name=merchant.name, role=places[0].role))
            if known is not None and known.current_merchant_id is not None:
                merchant = await uow.merchants.get(known.current_merchant_id)
                assert merchant is not None
                person = await self._ensure_person(uow, profile)
                return StartOutcome(joined=await self._join(uow, person, merchant))
            merchants = await uow.merchants.first_two()
            if len(merchants) == 1:
                person = await self._ensure_person(uow, profile)
                return StartOutcome(joined=await self._join(uow, person, merchants[0]))
            return StartOutcome(known_merchants=len(merchants))

    async def claim_receipt(self, profile: TelegramProfile, token: str) -> ReceiptClaim:
        """Open a receipt's link: the first person within its life gets the sale credited (joining
        the shop first if new, with its welcome), with the rules of any sale; anyone after is
        refused (`ReceiptRefused`). A link that credits nothing counts against the person's ten a
        minute, as unknown codes do at the counter."""
        now = self.clock.now()
        async with self.db.write() as uow:
            person = await self._ensure_person(uow, profile)
            if not may_try(await uow.receipts.misses_since(person.id or 0, now - MISS_WINDOW)):
                raise ReceiptRefused("throttled")
            receipt = await uow.receipts.by_token(token_hash(token))
            refused = (
                ReceiptRefused("unknown")
                if receipt is None
                else refusal(state_of(receipt.claimed_at, receipt.voided_at, receipt.expires_at, now))
            )
            if receipt is not None and refused is None:
                if await uow.receipts.claim(receipt.id or 0, person.id or 0, now):
                    return await self._credit_receipt(uow, now, person, receipt)
                refused = ReceiptRefused("claimed")  # someone else's claim came first
            await uow.receipts.missed(person.id or 0, now)
        raise refused or ReceiptRefused("unknown")

    async def _credit_receipt(
        self, uow: UnitOfWork, now: datetime, person: Person, receipt: Receipt
    ) -> ReceiptClaim:
        merchant = await uow.merchants.get(receipt.merchant_id)
        assert merchant is not None
        joined = await self._join(uow, person, merchant)
        program = await uow.programs.for_merchant(merchant.id)
        key = await uow.apikeys.get(receipt.created_by_key_id) if receipt.created_by_key_id else None
        till = Till(
            merchant.id or 0,
            merchant.timezone,
            (key.created_by_person_id if key else None) or 0,
            receipt.outlet_id,
        )
        held = await uow.cards.stamps_of(merchant.id or 0, person.id or 0)
        result = await credit_at_till(
            uow.counter,
            now,
            self.settings,
            till,
            kinds_of(program),
            held,
            person.id or 0,
            receipt.amount,
            receipt.stamps,
            receipt.source,
        )
        extra = await after_purchase(
            uow, now, merchant, program, person.id or 0, receipt.source, receipt.amount
        )
        return ReceiptClaim(joined, result.also(*extra), receipt.amount)

    async def _accept_invite(self, uow: UnitOfWork, profile: TelegramProfile, token: str) -> InviteResult:
        invite = await uow.invites.by_token(token)
        now = self.clock.now()
        if invite is None or invite.used_at is not None or invite.expires_at <= now:
            raise InviteInvalid()
        if invite.for_username and (profile.username or "").lower() != invite.for_username:
            raise InviteForSomeoneElse()
        person = await self._ensure_person(uow, profile)
        if not await uow.invites.use(invite.id, person.id, now):
            raise InviteInvalid()
        before = acting_member(person, await uow.staff.workplaces(person.id))
        acting = before.merchant_id if before is not None else invite.merchant_id
        await uow.staff.add_or_restore(invite.merchant_id, person.id, invite.role, now, invite.outlet_id)
        # Joining a second shop's team does not move the person: they keep acting where they
        # did (an owner of A invited to B still runs A) until they switch with /shop.
        person.acting_merchant_id = acting
        await uow.people.save(person)
        merchant = await uow.merchants.get(invite.merchant_id)
        still_acting_for = await uow.merchants.get(acting) if acting != invite.merchant_id else None
        assert merchant is not None
        outlets = await uow.merchants.outlets(merchant.id)
        outlet = next((o.name for o in outlets if o.id == invite.outlet_id), None)
        return InviteResult(
            merchant_name=where_name(merchant.name, outlet, len(outlets)),
            role=invite.role,
            still_acting_for=still_acting_for.name if still_acting_for else None,
        )

    async def why(self, caller: Caller, news_id: int) -> Why:
        """**Why?** under a card's news: the purchase it told of, read back from the ledger — when,
        where, who confirmed it, the rule, and all it changed (a refund since too). Only the
        customer the news was for may ask; anything else is a button that is no longer valid."""
        async with self.db.read() as uow:
            person = await uow.people.by_caller(caller)
            news = await uow.outbox.get(news_id)
            if (
                person is None
                or news is None
                or news.person_id != person.id
                or news.kind != Kind.CARD_UPDATE
                or news.merchant_id is None
                or not news.idempotency_key.startswith("card:")
            ):
                raise PromptClosed("missing")
            source = news.idempotency_key.removeprefix("card:")
            entries = await uow.ledger.entries_of_origin(news.merchant_id, person.id, source)
            bought = next((row for row in entries if row.reason == "purchase"), None)
            merchant = await uow.merchants.get(news.merchant_id)
            if bought is None or merchant is None:
                raise PromptClosed("missing")  # erased since (the customer left the shop)
            staff = await uow.people.get(bought.actor_person_id) if bought.actor_person_id else None
            outlets = await uow.merchants.outlets(merchant.id)
            outlet = next((o.name for o in outlets if o.id == bought.outlet_id), None)
            program = await uow.programs.for_merchant(merchant.id)
            till = bought.prompt_id is None and not source.startswith("claim-")
            return Why(
                bought.created_at,
                where_name(merchant.name, outlet, len(outlets)),
                None if till or staff is None else staff.first_name,
                reasons([Row(row.asset, row.delta, row.reason, row.amount) for row in entries]),
                program.stamps_per_purchase,
                program.rupiah_per_point if program.points_enabled else 0,
                merchant.timezone,
            )

    async def card(self, caller: Caller) -> CardView:
        async with self.db.read() as uow:
            person, merchant, card = await require_member(uow, caller)
            now = self.clock.now()
            view = await card_view(uow, now, person, merchant, card)
            return replace(
                view,
                next_level=await next_level(uow, now, merchant.id or 0, card),
                groups=tuple(
                    (tier_id, title)
                    for tier_id, _, title in await uow.tiers.open_groups(merchant.id or 0, card.tier_id)
                ),
            )

    async def rewards(self, caller: Caller) -> list[RewardView]:
        async with self.db.read() as uow:
            person, merchant, _ = await require_member(uow, caller)
            rewards = await uow.rewards.open_rewards(merchant.id, person.id, self.clock.now())
            return [
                RewardView(r.code, r.name, r.expires_at, merchant.name, merchant.timezone) for r in rewards
            ]

    async def set_language(self, profile: TelegramProfile, language: str) -> str:
        if language not in SUPPORTED_LANGUAGES:
            raise ValueError(language)
        async with self.db.write() as uow:
            person = await self._ensure_person(uow, profile)
            person.language = language
            await uow.people.save(person)
        return language

    async def seen(self, profile: TelegramProfile) -> str:
        """The user wrote: the language to answer in. One indexed read; a write only when
        Telegram's name or language changed, or the user had blocked the bot and is back."""
        async with self.db.read() as uow:
            person = await uow.people.by_telegram_id(profile.telegram_id)
        if person is not None and (person.unreachable_at is not None or _profile_changed(person, profile)):
            async with self.db.write() as uow:
                person = await self._ensure_person(uow, profile)
                await uow.people.mark_reachable(person.id)
        chosen = person.language if person else None
        return resolve_language(chosen, profile.language_code, self.settings.default_language)

    async def arrive(self, update_id: int, profile: TelegramProfile | None, state_key: str) -> Arrival:
        """An update came in: whether it is new (a second delivery has no effect), the language to
        answer in, and the sender's open form, in one step on the driver. A profile Telegram shows
        changed (or a person back after blocking the bot) is written by `seen`."""
        if not self.db.has_driver:
            return await self._arrive_by_orm(update_id, profile, state_key)
        telegram_id = profile.telegram_id if profile is not None else 0
        async with self.db.driver(transaction=False) as tx:
            arrived = await arrive(tx, update_id, self.clock.now(), telegram_id, state_key)
        sender = arrived.sender
        language: str
        if profile is None:
            language = self.settings.default_language
        elif sender is not None and (not sender.reachable or _profile_changed(sender, profile)):
            language = await self.seen(profile)
        else:
            chosen = sender.language if sender is not None else None
            language = resolve_language(chosen, profile.language_code, self.settings.default_language)
        menu = (
            MenuView.of(sender.role, sender.has_card, kinds=sender.kinds)
            if sender is not None
            else MenuView.of(None, False)
        )
        return Arrival(arrived.first_time, language, arrived.state, arrived.state_updated_at, menu)

    async def journal(self, updates: list[tuple[int, int | None, str]]) -> None:
        """Record updates as received, before Telegram counts them delivered (storage/journal.py)."""
        if self.db.has_driver:
            async with self.db.driver(transaction=False) as tx:
                await journal.record(tx, updates, self.clock.now())

    async def handled(self, update_id: int) -> None:
        """The update was handled: its journal entry is done (and emptied)."""
        if self.db.has_driver:
            relaxed = not self.db.is_sqlite
            async with self.db.driver(transaction=relaxed) as tx:
                await journal.done(tx, update_id, self.clock.now(), relaxed=relaxed)

    async def still_handling(self, update_id: int) -> None:
        """A long handling renews its update's lease (storage/journal.py)."""
        if self.db.has_driver:
            async with self.db.driver(transaction=False) as tx:
                await journal.renew(tx, update_id, self.clock.now())

    async def abandoned_updates(self) -> tuple[list[tuple[int, str]], list[int]]:
        """Updates received and not handled by a process that stopped, taken for handling now;
        and those given up after failing every try."""
        if not self.db.has_driver:
            return [], []
        lease = timedelta(seconds=self.settings.update_lease_seconds)
        async with self.db.driver(transaction=False) as tx:
            given_up = await journal.give_up(tx, self.clock.now(), lease)
            return await journal.take_abandoned(tx, self.clock.now(), lease), given_up

    async def _arrive_by_orm(
        self, update_id: int, profile: TelegramProfile | None, state_key: str
    ) -> Arrival:
        if not await self.first_delivery(update_id):
            return Arrival(False, self.settings.default_language, None, None)
        language = await self.seen(profile) if profile is not None else self.settings.default_language
        async with self.db.read() as uow:
            form = await uow.conversations.get(state_key)
        return Arrival(True, language, form.state if form else None, form.updated_at if form else None)

    async def first_delivery(self, update_id: int) -> bool:
        """``True`` the first time an update id is seen; ``False`` when Telegram delivers it again."""
        async with self.db.write() as uow:
            return await uow.updates.first_time(update_id, self.clock.now())

    async def chosen_language(self, telegram_id: int, telegram_language: str | None) -> str:
        """The language to answer in, from one read (no profile refresh)."""
        async with self.db.read() as uow:
            person = await uow.people.by_telegram_id(telegram_id)
        return resolve_language(
            person.language if person else None, telegram_language, self.settings.default_language
        )

    async def stop_promotions(self, caller: Caller) -> str | None:
        """``/stop``: no more reminders, surveys or broadcasts from the current shop; returns its
        name, ``None`` if not a member anywhere."""
        async with self.db.write() as uow:
            try:
                person, merchant, card = await require_member(uow, caller)
            except NotMember:
                return None
            await uow.cards.set_opt_out(card, True)
            await uow.outbox.drop_promotions_for(
                person.id, self.clock.now(), "opted out", merchant_id=merchant.id
            )
            return merchant.name

    async def my_data(self, caller: Caller) -> dict[str, Any]:
        """/mydata: everything stored about the person, ready to be sent as a JSON file."""
        async with self.db.read() as uow:
            person = await uow.people.by_caller(caller)
            if person is None:
                raise NotMember()
            return await uow.personal_data.export(person)

    async def leaving(self, caller: Caller) -> LeavePreview:
        """What /leave would give up at the current shop (shown before the confirmation)."""
        async with self.db.read() as uow:
            person, merchant, card = await require_member(uow, caller)
            rewards = await uow.rewards.count_open(merchant.id, person.id, self.clock.now())
            return LeavePreview(merchant.id, merchant.name, card.stamps, rewards)

    async def renewing_subscriptions(self, telegram_id: int, merchant_id: int | None = None) -> list[str]:
        """The charge ids of the person's Stars subscriptions Telegram would renew (at one shop, or
        at all): /leave and /forget cancel them with Telegram first, so nobody is charged for a card
        that is gone."""
        async with self.db.read() as uow:
            person = await uow.people.by_telegram_id(telegram_id)
            if person is None:
                return []
            found = await uow.membership.renewing(person.id or 0, merchant_id, self.clock.now())
            return [membership.charge_id for membership in found]

    async def leave(self, caller: Caller, merchant_id: int) -> str:
        """Leave one shop: the card closes (stamps and open rewards given up, on the ledger), a paid
        membership there ends, no more messages from it, and its staff no longer find the code.
        Returns the shop's name."""
        now = self.clock.now()
        async with self.db.write() as uow:
            person = await uow.people.by_caller(caller)
            card = await uow.cards.get(merchant_id, person.id, lock=True) if person is not None else None
            merchant = await uow.merchants.get(merchant_id)
            if person is None or card is None or merchant is None:
                raise PromptClosed("missing")
            await uow.personal_data.close_card(card, now, "left")
            await uow.membership.end_all(person.id or 0, merchant_id, now)
            if person.current_merchant_id == merchant_id:
                others = await uow.personal_data.cards_of(person.id)
                person.current_merchant_id = others[-1].merchant_id if others else None
                await uow.people.save(person)
            return merchant.name

    async def forget(self, caller: Caller) -> None:
        """/forget, after the confirmation: every card closes, memberships end, staff roles are
        given up and every personal column the register names is erased. What stays of the
        person is a keyed hash of their Telegram (or WhatsApp) id per shop, for bonus eligibility only."""
        now = self.clock.now()
        async with self.db.write() as uow:
            person = await uow.people.by_caller(caller)
            if person is None:
                raise NotMember()
            for member in await uow.staff.workplaces(person.id):
                if member.role == Role.OWNER:
                    await keep_an_owner(uow, member.merchant_id)
            await uow.staff.revoke_all(person.id or 0, now)
            shops = await uow.personal_data.shops_of(person.id or 0)
            secret = await self._forgetting_secret(uow, now)
            identity = await _identity(uow, person)
            digests = {shop: forgotten_digest(secret, shop, identity) for shop in shops}
            for card in await uow.personal_data.cards_of(person.id):
                await uow.personal_data.close_card(card, now, "forgotten")
            await uow.membership.end_all(person.id or 0, None, now)
            await uow.personal_data.remember_forgotten(shops, digests, now)
            await uow.personal_data.erase(person, anonymous_code(), now)

    async def _forgetting_secret(self, uow: UnitOfWork, now: datetime) -> str:
        """The key of the forgotten people's hashes."""
        return await server_key(uow, self.settings, SECRET_NAME, now)

    async def _forgot_here_before(self, uow: UnitOfWork, merchant_id: int, identity: int | str) -> bool:
        """This person used /forget while holding a card here: no second welcome or referral."""
        secret = await self._forgetting_secret(uow, self.clock.now())
        return await uow.personal_data.was_forgotten(
            merchant_id, forgotten_digest(secret, merchant_id, identity)
        )

    async def join_by_channel(self, visitor: Visitor, slug: str) -> JoinResult:
        """Someone on another messenger joins the shop ``slug`` with their consent to its messages
        (asked before this): their person and identity there are made the first time."""
        now = self.clock.now()
        async with self.db.write() as uow:
            found = await uow.merchants.joinable(slug)
            if found is None:
                raise UnknownMerchant()
            merchant, outlet_id = found
            person = await uow.people.by_caller(visitor.user)
            if person is None:
                person = await uow.people.add_with_unique_code(
                    lambda: Person(
                        first_name=visitor.name[:64],
                        language=visitor.language,
                        personal_code=new_personal_code(),
                        created_at=now,
                    )
                )
            contact = await uow.people.contact(person.id, visitor.user.channel)
            if contact is None:
                contact = Contact(
                    person_id=person.id,
                    channel=visitor.user.channel,
                    address=visitor.user.address,
                    created_at=now,
                )
            contact.phone = visitor.phone or contact.phone
            contact.consent_at = contact.consent_at or now
            contact.last_inbound_at = now
            await uow.people.save_contact(contact)
            return await self._join(uow, person, merchant, outlet_id=outlet_id)

    async def channel_person(self, user: ChannelUser) -> ChannelPerson | None:
        """Who writes on another messenger, as Kartu knows them (``None``: not yet)."""
        async with self.db.read() as uow:
            person = await uow.people.by_caller(user)
            if person is None:
                return None
            contact = await uow.people.contact(person.id, user.channel)
            merchant = (
                await uow.merchants.get(person.current_merchant_id) if person.current_merchant_id else None
            )
            return ChannelPerson(
                person.id or 0,
                person.first_name,
                person.language,
                merchant.name if merchant else None,
                contact.consent_at is not None if contact else False,
            )

    async def arrival(self, user: ChannelUser, at: datetime) -> ChannelPerson | None:
        """Someone wrote on their messenger at ``at``: who they are to Kartu (``None``: not yet),
        read in one statement; their window opens, and what waited for it goes out (`wrote`)."""
        if not self.db.has_driver:  # an in-memory database (unit tests)
            await self.wrote(user, at)
            return await self.channel_person(user)
        async with self.db.driver(transaction=False) as tx:
            row = await channels.arriving(tx, user.channel, user.address)
            if row is None:
                return None
            previous, consent_at = tx.when(row["last_inbound_at"]), tx.when(row["consent_at"])
            if previous is None or previous < at:
                await channels.wrote(tx, user.channel, user.address, at)
        # Messages wait only while the window is closed: one opening again may release some.
        if consent_at is not None and (previous is None or at - previous >= WINDOW):
            await self.wrote(user, at, touched=True)
        return ChannelPerson(
            int(row["person_id"]),
            str(row["first_name"]),
            row["language"],
            row["shop"],
            consent_at is not None,
        )

    async def wrote(self, user: ChannelUser, at: datetime, *, touched: bool = False) -> None:
        """They wrote on their messenger at ``at``: its window for the business's messages opens,
        and what waited for it (news of the last week) goes out. ``touched``: the moment is
        written already (`arrival`), only the waiting news is left to release."""
        now = self.clock.now()
        async with self.db.write() as uow:
            contact = await uow.people.by_contact(user.channel, user.address)
            if contact is None:
                return
            if not touched and (contact.last_inbound_at is None or contact.last_inbound_at < at):
                contact.last_inbound_at = at
                await uow.people.save_contact(contact)
                touched = True
            if touched and contact.consent_at is not None and now - at < WINDOW:
                await uow.outbox.release_waiting(contact.person_id, now, now - KEEP_WAITING)

    async def link_code(self, telegram_id: int, channel: Channel) -> str:
        """A one-time code to type on ``channel`` (WhatsApp) within ten minutes: it adds that
        messenger to this Telegram customer, with the same cards and code."""
        now = self.clock.now()
        async with self.db.write() as uow:
            person = await uow.people.by_telegram_id(telegram_id)
            if person is None:
                raise NotMember()
            code = new_link_code()
            await uow.people.add_link(
                ChannelLink(
                    person_id=person.id,
                    channel=channel,
                    code_hash=link_code_hash(code),
                    expires_at=now + LINK_LIFETIME,
                    created_at=now,
                )
            )
            return code

    async def link(self, visitor: Visitor, typed: str) -> tuple[str, str]:
        """They typed a link code on their messenger: it becomes theirs there (with consent to the
        shops' messages: they asked for it), the same person and cards as on Telegram. Their first
        name and language are returned. An identity holding cards of its own is refused (`HasOwnCard`): two
        people are never merged by a code."""
        canonical = normalize_code(typed)
        if canonical is None:
            raise LinkCodeInvalid()
        now = self.clock.now()
        channel = visitor.user.channel
        async with self.db.write() as uow:
            link = await uow.people.use_link(link_code_hash(canonical), now)
            if link is None or link.channel != channel:
                raise LinkCodeInvalid()
            person = await uow.people.get(link.person_id)
            if person is None or person.forgotten_at is not None:
                raise LinkCodeInvalid()
            here = await uow.people.by_contact(channel, visitor.user.address)
            if here is not None and here.person_id != person.id:
                if await uow.personal_data.cards_of(here.person_id):
                    raise HasOwnCard()
                await uow.people.drop_contact(here)  # an identity with nothing on it moves over
                here = None
            contact = here or await uow.people.contact(person.id, channel)
            if contact is None:
                contact = Contact(person_id=person.id, channel=channel, address="", created_at=now)
            contact.address, contact.phone = visitor.user.address, visitor.phone or contact.phone
            contact.consent_at = contact.consent_at or now
            contact.last_inbound_at = now
            await uow.people.save_contact(contact)
            return person.first_name, self.language_of(person)

    async def choose_language(self, caller: Caller, language: str) -> None:
        """The person picked the language Kartu speaks to them in."""
        if language not in SUPPORTED_LANGUAGES:
            raise ValueError(language)
        async with self.db.write() as uow:
            person = await uow.people.by_caller(caller)
            if person is None:
                raise NotMember()
            person.language = language
            await uow.people.save(person)


async def _identity(uow: UnitOfWork, person: Person) -> int | str:
    """What names the person across /forget: their Telegram id, else their WhatsApp identity."""
    if person.telegram_id is not None and person.telegram_id > 0:
        return person.telegram_id
    contact = await uow.people.contact(person.id, Channel.WHATSAPP)
    return f"{Channel.WHATSAPP}:{contact.address}" if contact is not None else -(person.id or 0)


def _profile_changed(person: Person | Sender, profile: TelegramProfile) -> bool:
    return (person.first_name, person.username, person.telegram_language) != (
        (profile.first_name or "")[:64],
        profile.username and profile.username[:64],
        profile.language_code and profile.language_code[:16],
    )
