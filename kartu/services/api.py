"""The point-of-sale API's use cases: keys (made once, kept hashed, scoped to one shop), requests
with an Idempotency-Key (the first answer stored and replayed), purchases credited through the
same crediting as staff confirmations, customers looked up by their code."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TypeVar

from kartu import logs
from kartu.loyalty.apikeys import hash_key, new_key, parse_scopes, shown_prefix
from kartu.loyalty.codes import normalize_code
from kartu.loyalty.delivery import Category, Kind
from kartu.loyalty.errors import LoyaltyError, PromptClosed
from kartu.loyalty.links import LinkKind, deep_link
from kartu.loyalty.receipts import life, new_token, state_of, token_hash
from kartu.loyalty.refunds import RefundRefused
from kartu.loyalty.staff import Role
from kartu.services.access import require_owner
from kartu.services.after_purchase import after_purchase, nothing_after
from kartu.services.base import ServiceBase, kinds_of
from kartu.services.crediting import PurchaseResult
from kartu.services.refunds import UnknownPurchase, refund_purchase, tell_of_refund
from kartu.services.till import Till, credit_at_till
from kartu.services.webhooks import reward_redeemed
from kartu.storage import apicalls
from kartu.storage.counter import CounterStatements
from kartu.storage.courier import Parcel
from kartu.storage.models import ApiKey, LedgerEntry, Merchant, Outlet, Person, Program, Receipt
from kartu.storage.unit_of_work import UnitOfWork

IDEMPOTENCY_TTL = timedelta(hours=24)
T = TypeVar("T")
EXTERNAL_ID_MAX = 64
STAMPS_MAX = 20
_WAIT_STEP, _WAIT_MAX = 0.02, 15.0  # a second request with a key still being answered waits for it


class ApiError(LoyaltyError):
    """An API refusal: HTTP status, a stable code, a message, the field at fault."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field


@dataclass(frozen=True)
class Principal:
    """Who is calling: a key of one shop, with its scopes and the owner who made it."""

    key_id: int
    merchant_id: int
    scopes: frozenset[str]
    actor_id: int | None
    outlet_id: int | None = None  # a key of one outlet: its sales are that outlet's

    def require(self, scope: str) -> None:
        if scope not in self.scopes:
            raise ApiError(403, "forbidden", f"This key may not {scope}.")


@dataclass(frozen=True)
class KeyView:
    key_id: int
    prefix: str
    scopes: str
    name: str
    created_at: datetime
    last_used_at: datetime | None
    outlet: str | None = None  # a till of one outlet: its name


@dataclass(frozen=True)
class KeyList:
    """The owner's /apikeys screen: the shop's time zone, its keys, and its outlets (id, name) when
    it has several (a new key may be one outlet's)."""

    timezone: str
    keys: list[KeyView]
    outlets: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True)
class Credited:
    """A purchase credited: what the API answers, and the news to send after the commit."""

    body: dict[str, object]
    result: PurchaseResult


def _key_view(key: ApiKey, outlets: dict[int, str] | None = None) -> KeyView:
    outlet = (outlets or {}).get(key.outlet_id) if key.outlet_id is not None else None
    return KeyView(key.id or 0, key.prefix, key.scopes, key.name, key.created_at, key.last_used_at, outlet)


class ApiService(ServiceBase):
    # -- keys ---------------------------------------------------------------------------------------

    async def _add_key(
        self,
        uow: UnitOfWork,
        merchant_id: int,
        scopes: str,
        name: str,
        actor: int | None,
        outlet_id: int | None = None,
    ) -> tuple[str, KeyView]:
        key = new_key()
        row = await uow.apikeys.add(
            ApiKey(
                merchant_id=merchant_id,
                prefix=shown_prefix(key),
                key_hash=hash_key(key),
                scopes=parse_scopes(scopes),
                name=" ".join(name.split())[:48],
                created_by_person_id=actor,
                created_at=self.clock.now(),
                outlet_id=outlet_id,
            )
        )
        return key, _key_view(row)

    async def create_key(
        self, owner_telegram_id: int, scopes: str, name: str = "", outlet_id: int | None = None
    ) -> tuple[str, KeyView]:
        """A new key for the owner's shop (or one of its outlets, whose till it is): the key itself
        is shown once (only its hash is kept)."""
        async with self.db.write() as uow:
            place = await require_owner(uow, owner_telegram_id)
            names = {outlet.id: outlet.name for outlet in place.outlets}
            if outlet_id is not None and outlet_id not in names:
                raise PromptClosed("missing")  # a stale or forged button: another business's outlet
            key, view = await self._add_key(
                uow, place.merchant.id or 0, scopes, name, place.person.id, outlet_id
            )
            return key, replace(view, outlet=names.get(outlet_id) if outlet_id else None)

    async def create_key_for(
        self, slug: str, scopes: str, name: str = "", outlet: str | None = None
    ) -> tuple[str, KeyView]:
        """The operator's way (`kartu apikey create SLUG [--outlet CODE]`): the key is made on
        behalf of an owner; a key of one outlet credits its sales there."""
        async with self.db.write() as uow:
            merchant = await uow.merchants.by_slug(slug)
            if merchant is None:
                raise ApiError(404, "not_found", f"No shop {slug!r}.")
            found = await uow.merchants.outlet_by_slug(outlet) if outlet else None
            if outlet and (found is None or found.merchant_id != merchant.id):
                raise ApiError(404, "not_found", f"{merchant.name} has no outlet {outlet!r}.")
            owners = [
                member for member, _ in await uow.staff.roster(merchant.id or 0) if member.role == Role.OWNER
            ]
            actor = owners[0].person_id if owners else None
            return await self._add_key(
                uow, merchant.id or 0, scopes, name, actor, found.id if found else None
            )

    async def keys(self, owner_telegram_id: int) -> KeyList:
        """The shop's time zone, its keys in use (each outlet's named) and its outlets."""
        async with self.db.read() as uow:
            place = await require_owner(uow, owner_telegram_id)
            names = {outlet.id: outlet.name for outlet in place.outlets}
            keys = [_key_view(key, names) for key in await uow.apikeys.of_merchant(place.merchant.id or 0)]
            outlets = tuple(names.items()) if len(names) > 1 else ()
            return KeyList(place.merchant.timezone, keys, outlets)

    async def revoke(self, owner_telegram_id: int, key_id: int) -> None:
        async with self.db.write() as uow:
            place = await require_owner(uow, owner_telegram_id)
            if not await uow.apikeys.revoke(key_id, place.merchant.id or 0, self.clock.now()):
                raise PromptClosed("missing")

    async def authenticate(self, bearer: str | None) -> Principal:
        if not bearer:
            raise ApiError(401, "unauthorized", "Send the key as Authorization: Bearer <key>.")
        now = self.clock.now()
        if self.db.has_driver:  # every request asks: a statement, not an ORM session
            async with self.db.driver(transaction=False) as tx:
                key = await apicalls.key_by_hash(tx, hash_key(bearer))
        else:
            async with self.db.read() as uow:
                found = await uow.apikeys.by_hash(hash_key(bearer))
            key = (
                None
                if found is None
                else apicalls.KeyRow(
                    found.id or 0,
                    found.merchant_id,
                    found.scopes,
                    found.created_by_person_id,
                    found.last_used_at,
                    found.revoked_at is not None,
                    found.outlet_id,
                )
            )
        if key is None or key.revoked:
            raise ApiError(401, "unauthorized", "This key is not valid (unknown or revoked).")
        logs.merchant_id.set(key.merchant_id)  # the shop this request acts for, in its log lines
        if key.last_used_at is None or now - key.last_used_at > timedelta(minutes=1):
            async with self.db.write() as uow:  # at most a write a minute per key
                await uow.apikeys.used(key.key_id, now)
        return Principal(
            key.key_id, key.merchant_id, frozenset(key.scopes.split(",")), key.actor_id, key.outlet_id
        )

    # -- idempotency --------------------------------------------------------------------------------

    async def once(
        self,
        principal: Principal,
        idempotency_key: str,
        fingerprint: str,
        work: Callable[[UnitOfWork], Awaitable[tuple[int, str, T]]],
        refusal: Callable[[LoyaltyError], tuple[int, str]],
    ) -> tuple[int, str, T | None, bool]:
        """A write with an Idempotency-Key, in one transaction: the key taken, ``work`` done and its
        answer stored together (status, body, what the work hands back, replayed?). A refusal is
        stored as the answer too (``refusal`` renders it) while the work's writes roll back. A
        request with a key already answered gets that answer; one still being answered (another
        process, PostgreSQL) is waited for; the same key with another body is 422."""
        now = self.clock.now()
        waited = 0.0
        while True:
            try:
                async with self.db.write() as uow:
                    if await uow.apikeys.claim_call(
                        principal.key_id, idempotency_key, fingerprint, now, now + IDEMPOTENCY_TTL
                    ):
                        status, body, handed = await work(uow)
                        await uow.apikeys.answer_call(principal.key_id, idempotency_key, status, body)
                        return status, body, handed, False
                    call = await uow.apikeys.call(principal.key_id, idempotency_key)
            except LoyaltyError as refused:
                status, body = refusal(refused)
                async with self.db.write() as uow:
                    if await uow.apikeys.claim_call(
                        principal.key_id, idempotency_key, fingerprint, now, now + IDEMPOTENCY_TTL
                    ):
                        await uow.apikeys.answer_call(principal.key_id, idempotency_key, status, body)
                        return status, body, None, False
                    call = await uow.apikeys.call(principal.key_id, idempotency_key)
            if call is None:
                continue  # forgotten meanwhile: take it now
            if call.body_hash != fingerprint:
                raise _MISMATCH
            if call.status:
                return call.status, call.response, None, True
            if waited >= _WAIT_MAX:
                raise ApiError(
                    409, "in_progress", "A request with this Idempotency-Key is still being handled."
                )
            await asyncio.sleep(_WAIT_STEP)
            waited += _WAIT_STEP

    # -- purchases and customers --------------------------------------------------------------------

    async def _customer(
        self, uow: UnitOfWork, merchant: Merchant, code: str | None, telegram_id: int | None
    ) -> Person:
        person = await uow.people.member_of(
            merchant.id or 0, (normalize_code(code) or "") if code else None, telegram_id
        )
        if person is None:  # another shop's customer looks exactly like an unknown one
            raise ApiError(404, "not_found", "No customer of this shop has that code.", "customer")
        return person

    async def _sale_checked(
        self,
        uow: UnitOfWork,
        principal: Principal,
        now: datetime,
        *,
        occurred_at: datetime | None,
        amount: int | None,
        stamps: int | None,
        external_id: str,
    ) -> tuple[Merchant, Program, str]:
        """A sale from the till, as any is checked (a purchase now, or a receipt printed for
        later): its time, amount, stamps, the amount a points shop needs, its external_id unused
        by a purchase or a receipt. The shop, its program and the sale's id."""
        if not rung_up_lately(occurred_at, now):
            raise ApiError(
                422,
                "invalid_occurred_at",
                "occurred_at must be within the last 7 days, with a time zone, and not in the future.",
                "occurred_at",
            )
        merchant = await uow.merchants.get(principal.merchant_id)
        assert merchant is not None
        program = await uow.programs.for_merchant(merchant.id)
        if amount is not None and not 0 < amount <= program.max_amount:
            raise ApiError(
                422, "invalid_amount", f"The amount must be from 1 to {program.max_amount} rupiah.", "amount"
            )
        if stamps is not None and not 0 < stamps <= STAMPS_MAX:
            raise ApiError(422, "invalid_stamps", f"Stamps must be from 1 to {STAMPS_MAX}.", "stamps")
        if kinds_of(program).needs_amount and amount is None:
            raise ApiError(422, "amount_required", "This shop runs points: send the amount.", "amount")
        source = f"api-{merchant.id}-{external_id}"
        if (
            await uow.ledger.has(f"purchase:{source}")
            or await uow.ledger.has(f"points:{source}")
            or await uow.receipts.by_source(merchant.id or 0, source) is not None
        ):
            raise ApiError(
                409,
                "already_credited",
                "A sale with this external_id was credited or printed before.",
                "external_id",
            )
        return merchant, program, source

    async def _outlet(self, uow: UnitOfWork, principal: Principal, slug: str | None) -> Outlet | None:
        """Where a sale was: the outlet it names (its code), else the key's outlet, else the
        business's only one; ``None`` in a business with several when neither names one. An
        outlet of another business, or another than the key's, is refused."""
        outlets = await uow.merchants.outlets(principal.merchant_id)
        if slug is not None:
            named = next((outlet for outlet in outlets if outlet.slug == slug.strip().lower()), None)
            if named is None:
                raise ApiError(422, "unknown_outlet", f"This shop has no outlet {slug!r}.", "outlet")
            if principal.outlet_id is not None and named.id != principal.outlet_id:
                raise ApiError(403, "other_outlet", "This key is for another outlet.", "outlet")
            return named
        if principal.outlet_id is not None:
            return next((outlet for outlet in outlets if outlet.id == principal.outlet_id), None)
        return outlets[0] if len(outlets) == 1 else None

    async def purchase(
        self,
        uow: UnitOfWork,
        principal: Principal,
        *,
        code: str | None,
        telegram_id: int | None,
        amount: int | None,
        stamps: int | None,
        external_id: str,
        to_scheduler: bool,
        occurred_at: datetime | None = None,
        outlet: str | None = None,
    ) -> Credited:
        """Credit a sale rung up at the till, as a staff confirmation would: the shop's rules, daily
        cap, levels, spins and partners' vouchers apply. The customer's news is the caller's to send
        after the commit, or (``to_scheduler``: no bot in this process) handed to the scheduler."""
        principal.require("earn")
        now = self.clock.now()
        merchant, program, source = await self._sale_checked(
            uow,
            principal,
            now,
            occurred_at=occurred_at,
            amount=amount,
            stamps=stamps,
            external_id=external_id,
        )
        kinds = kinds_of(program)
        where = await self._outlet(uow, principal, outlet)
        person = await self._customer(uow, merchant, code, telegram_id)
        result = await credit_at_till(
            uow.counter,
            now,
            self.settings,
            Till(
                principal.merchant_id, merchant.timezone, principal.actor_id or 0, where.id if where else None
            ),
            kinds,
            await uow.cards.stamps_of(merchant.id or 0, person.id or 0),
            person.id or 0,
            amount,
            stamps,
            source,
        )
        extra = await after_purchase(uow, now, merchant, program, person.id or 0, source, amount)
        result = result.also(*extra)
        body = _purchase_body(
            source, external_id, person.personal_code, person.first_name, result, now, occurred_at
        )
        body["outlet"] = where.slug if where else None
        if to_scheduler:
            for parcel in result.taken:
                await uow.outbox.retry_later(parcel.id, now, "postponed", count_attempt=False)
        return Credited(body, result)

    async def purchase_at_once(
        self,
        principal: Principal,
        idempotency_key: str,
        fingerprint: str,
        *,
        code: str | None,
        telegram_id: int | None,
        amount: int | None,
        stamps: int | None,
        external_id: str,
        to_scheduler: bool,
        occurred_at: datetime | None = None,
        outlet: str | None = None,
    ) -> tuple[str, PurchaseResult] | None:
        """The usual sale on the driver, in one transaction, as a staff confirmation is: the key
        taken, the sale credited, its answer stored (the answer and the news to send). ``None``
        for anything else (a key used before, a refusal, no driver): nothing was written, and
        `once` with `purchase` answers it."""
        now = self.clock.now()
        if (
            not self.db.has_driver
            or "earn" not in principal.scopes
            or not rung_up_lately(occurred_at, now)
            or outlet is not None  # an outlet named: checked in the full use case
        ):
            return None
        source = f"api-{principal.merchant_id}-{external_id}"
        try:
            async with self.db.driver() as tx:
                if not await apicalls.claim(
                    tx, principal.key_id, idempotency_key, fingerprint, now, now + IDEMPOTENCY_TTL
                ):
                    return None
                sale = await apicalls.sale_context(
                    tx,
                    principal.merchant_id,
                    normalize_code(code or "") if code else None,
                    telegram_id,
                    source,
                    principal.outlet_id,
                )
                if (
                    sale is None
                    or sale.credited
                    or (amount is not None and not 0 < amount <= sale.max_amount)
                    or (stamps is not None and not 0 < stamps <= STAMPS_MAX)
                    or (sale.kinds.needs_amount and amount is None)
                ):
                    raise _Slow()
                statements = CounterStatements(tx)
                result = await credit_at_till(
                    statements,
                    now,
                    self.settings,
                    Till(principal.merchant_id, sale.timezone, principal.actor_id or 0, sale.outlet_id),
                    sale.kinds,
                    sale.stamps,
                    sale.person_id,
                    amount,
                    stamps,
                    source,
                )
                answer = _purchase_body(
                    source, external_id, sale.code, sale.first_name, result, now, occurred_at
                )
                body = dumps({**answer, "outlet": sale.outlet})
                await apicalls.answer(tx, principal.key_id, idempotency_key, 201, body)
                if to_scheduler:
                    await apicalls.to_scheduler(tx, [parcel.id for parcel in result.taken], now)
        except (_Slow, LoyaltyError):
            return None
        if not nothing_after(principal.merchant_id):  # a level, a spin, vouchers: right after
            async with self.db.write() as uow:
                merchant = await uow.merchants.get(principal.merchant_id)
                program = await uow.programs.for_merchant(principal.merchant_id)
                assert merchant is not None
                extra = await after_purchase(uow, now, merchant, program, sale.person_id, source, amount)
                result = result.also(*extra)
                if to_scheduler:
                    for item in extra:
                        news = item.news if item is not None and not isinstance(item, Parcel) else item
                        if news is not None:
                            await uow.outbox.retry_later(news.id, now, "postponed", count_attempt=False)
        return body, result

    async def _void_receipt(
        self, uow: UnitOfWork, principal: Principal, purchase_id: str
    ) -> dict[str, object] | None:
        """A refund of a receipt nobody claimed yet: the receipt is void (its link credits nothing);
        None when there is no such receipt, or it was claimed (the sale is refunded as any)."""
        receipt = await uow.receipts.by_source(principal.merchant_id, purchase_id)
        if receipt is None or receipt.claimed_at is not None:
            return None
        now = self.clock.now()
        if receipt.voided_at is not None or not await uow.receipts.void(receipt.id or 0, now):
            raise ApiError(409, "already_refunded", "This purchase was refunded before.", "id")
        return {
            "id": purchase_id,
            "customer": None,
            "stamps_removed": 0,
            "stamps_short": 0,
            "points_removed": 0,
            "rewards_voided": [],
            "spins_voided": 0,
            "cause_withdrawn": 0,
            "level": None,
            "card": None,
            "refunded_at": now.isoformat(),
        }

    async def refund(self, uow: UnitOfWork, principal: Principal, purchase_id: str) -> dict[str, object]:
        """Take a purchase back, and all it set off, with ledger rows of its own (never a delete):
        its stamps and points come off, the rewards, spins and partner vouchers it gave are void,
        its gift to a cause is withdrawn, a level it reached is looked at again; the customer and
        the owners are told. Refused (409) when it was refunded before, a reward or voucher it gave
        was used, or its points were spent (services/refunds.py)."""
        principal.require("earn")
        now = self.clock.now()
        merchant = await uow.merchants.get(principal.merchant_id)
        if merchant is None or not purchase_id.startswith(f"api-{principal.merchant_id}-"):
            raise ApiError(404, "not_found", "No purchase of this shop has that id.", "id")
        voided = await self._void_receipt(uow, principal, purchase_id)
        if voided is not None:
            return voided
        try:
            refunded = await refund_purchase(uow, now, merchant, purchase_id, principal.actor_id)
        except UnknownPurchase:
            raise ApiError(404, "not_found", "No purchase of this shop has that id.", "id") from None
        except RefundRefused as refused:
            raise ApiError(409, *_REFUND_REFUSALS[refused.reason], "id") from None
        await tell_of_refund(uow, now, merchant, refunded)
        return {"id": purchase_id, "customer": refunded.customer.personal_code, **refunded.body(now)}

    # -- receipts -----------------------------------------------------------------------------------

    async def create_receipt(
        self,
        uow: UnitOfWork,
        principal: Principal,
        *,
        amount: int | None,
        stamps: int | None,
        external_id: str,
        occurred_at: datetime | None,
        expires_in: int | None,
        outlet: str | None = None,
    ) -> dict[str, object]:
        """A sale rung up for a customer not at the till: an unclaimed receipt and its one-time
        link (``t.me/<bot>?start=rcpt_<token>``), credited to the first person who opens it within
        its life, with the rules of any sale. Checked now as a sale is (amount, stamps, its time,
        its external_id unused); the token is shown only in this answer."""
        principal.require("earn")
        if not self.settings.bot_username:
            raise ApiError(503, "unavailable", "Set KARTU_BOT_USERNAME: a receipt's link names the bot.")
        now = self.clock.now()
        merchant, _, source = await self._sale_checked(
            uow,
            principal,
            now,
            occurred_at=occurred_at,
            amount=amount,
            stamps=stamps,
            external_id=external_id,
        )
        where = await self._outlet(uow, principal, outlet)
        token = new_token()
        receipt = await uow.receipts.add(
            Receipt(
                merchant_id=merchant.id,
                source=source,
                external_id=external_id,
                amount=amount,
                stamps=stamps,
                occurred_at=occurred_at,
                token_hash=token_hash(token),
                created_by_key_id=principal.key_id,
                created_at=now,
                expires_at=now + life(expires_in),
                outlet_id=where.id if where else None,
            )
        )
        link = deep_link(self.settings.bot_username, LinkKind.RECEIPT, token)
        return {**_receipt_body(receipt, now, None, where.slug if where else None), "link": link}

    async def receipt(self, principal: Principal, receipt_id: str) -> dict[str, object]:
        """A receipt's state: open, claimed (by whom, and the sale as credited), expired or void."""
        principal.require("read")
        now = self.clock.now()
        async with self.db.read() as uow:
            receipt = await uow.receipts.by_source(principal.merchant_id, receipt_id)
            if receipt is None:
                raise ApiError(404, "not_found", "No receipt of this shop has that id.", "receipt_id")
            customer = await uow.people.get(receipt.person_id) if receipt.person_id else None
            outlets = await uow.merchants.outlets(principal.merchant_id)
            outlet = next((o.slug for o in outlets if o.id == receipt.outlet_id), None)
            return _receipt_body(receipt, now, customer.personal_code if customer else None, outlet)

    async def redeem(self, uow: UnitOfWork, principal: Principal, code: str) -> dict[str, object]:
        """Use a reward at this shop's till (once: a second call is 409), in the caller's
        transaction (the API's, with its Idempotency-Key)."""
        principal.require("redeem")
        now = self.clock.now()
        reward = await uow.rewards.of_merchant_by_code(principal.merchant_id, normalize_code(code) or "")
        if reward is None:
            raise ApiError(404, "not_found", "No reward of this shop has that code.", "code")
        if reward.redeemed_at is not None:
            raise ApiError(409, "already_redeemed", "This reward was used already.", "code")
        if reward.expires_at <= now:
            raise ApiError(422, "expired", "This reward has expired.", "code")
        if not await uow.rewards.redeem(reward.id or 0, principal.actor_id or reward.person_id, now):
            raise ApiError(409, "already_redeemed", "This reward was used already.", "code")
        await uow.ledger.append(
            LedgerEntry(
                merchant_id=reward.merchant_id,
                person_id=reward.person_id,
                asset="reward",
                delta=-1,
                reason="reward_redeemed",
                actor_person_id=principal.actor_id,
                idempotency_key=f"redeem:{reward.id}",
                reward_id=reward.id,
                created_at=now,
            )
        )
        customer = await uow.people.get(reward.person_id)
        assert customer is not None
        await reward_redeemed(uow, now, reward, customer)
        await uow.outbox.enqueue(
            key=f"redeemed:{reward.id}",
            kind=Kind.REWARD_REDEEMED,
            category=Category.RESULT,
            chat_id=customer.telegram_id,
            person_id=customer.id,
            merchant_id=reward.merchant_id,
            subject_id=reward.id,
            now=now,
            not_before=now,
        )
        return {
            "code": reward.code,
            "name": reward.name,
            "redeemed_at": now.isoformat(),
            "customer": customer.personal_code,
        }

    async def members(
        self, principal: Principal, cursor: str | None, since: datetime | None, limit: int
    ) -> dict[str, object]:
        principal.require("read")
        async with self.db.read() as uow:
            size = min(limit, PAGE_MAX)
            rows = await uow.reports.members_page(
                principal.merchant_id, parse_cursor(cursor), since, size + 1
            )
        items: list[dict[str, object]] = [
            {
                "code": code,
                "first_name": name,
                "joined_at": joined.isoformat(),
                "stamps": stamps,
                "points": points,
                "last_visit": last.isoformat() if last else None,
            }
            for _, code, name, joined, stamps, points, last in rows
        ]
        return page(items, [row[0] for row in rows], size, parse_cursor(cursor))

    async def ledger(
        self, principal: Principal, cursor: str | None, since: datetime | None, limit: int
    ) -> dict[str, object]:
        principal.require("read")
        async with self.db.read() as uow:
            size = min(limit, PAGE_MAX)
            rows = await uow.reports.ledger(principal.merchant_id, parse_cursor(cursor), since, size + 1)
        items: list[dict[str, object]] = [
            {
                "id": entry_id,
                "at": at.isoformat(),
                "customer": code,
                "asset": asset,
                "delta": delta,
                "reason": reason,
                "note": note,
                "outlet": outlet,
            }
            for entry_id, at, code, _, asset, delta, reason, _, note, outlet, _ in rows
        ]
        return page(items, [row[0] for row in rows], size, parse_cursor(cursor))

    async def outlets(self, principal: Principal) -> dict[str, object]:
        """The business's outlets (GET /v1/outlets)."""
        async with self.db.read() as uow:
            return {
                "data": [
                    {
                        "code": outlet.slug,
                        "name": outlet.name,
                        "address": outlet.address,
                        "timezone": outlet.timezone,
                        "key_outlet": outlet.id == principal.outlet_id,
                    }
                    for outlet in await uow.merchants.outlets(principal.merchant_id)
                ]
            }

    async def customer(self, principal: Principal, code: str) -> dict[str, object]:
        principal.require("read")
        now = self.clock.now()
        async with self.db.read() as uow:
            merchant = await uow.merchants.get(principal.merchant_id)
            assert merchant is not None
            person = await self._customer(uow, merchant, code, None)
            card = await uow.cards.get(merchant.id or 0, person.id or 0)
            assert card is not None
            tier = await uow.tiers.held(card.tier_id, merchant.id or 0)
            rewards = await uow.rewards.open_rewards(merchant.id, person.id, now)
            return {
                "code": person.personal_code,
                "first_name": person.first_name,
                "stamps": card.stamps,
                "points": card.points,
                "tier": tier[0] if tier else None,
                "rewards": [
                    {"code": reward.code, "name": reward.name, "expires_at": reward.expires_at.isoformat()}
                    for reward in rewards
                ],
                "joined_at": card.joined_at.isoformat(),
            }


PAGE_MAX = 200
ROW_ID_MAX = 2**63 - 1  # a BIGINT: a cursor or id past it names no row


SALE_AGE_MAX = timedelta(days=7)
CLOCK_SKEW = timedelta(minutes=5)


def rung_up_lately(occurred_at: datetime | None, now: datetime) -> bool:
    """A till's own time for the sale: within the last week (a till offline for a while posts its
    sales when back), not ahead of ours by more than a clock's drift."""
    if occurred_at is None:
        return True
    if occurred_at.tzinfo is None:
        return False
    return now - SALE_AGE_MAX <= occurred_at <= now + CLOCK_SKEW


class _Slow(Exception):
    """Not the usual sale: the ORM path answers it (and words the refusal)."""


def _receipt_body(
    receipt: Receipt, now: datetime, customer: str | None, outlet: str | None = None
) -> dict[str, object]:
    state = state_of(receipt.claimed_at, receipt.voided_at, receipt.expires_at, now)
    return {
        "id": receipt.source,
        "external_id": receipt.external_id,
        "status": str(state),
        "amount": receipt.amount,
        "stamps": receipt.stamps,
        "occurred_at": receipt.occurred_at.isoformat() if receipt.occurred_at else None,
        "created_at": receipt.created_at.isoformat(),
        "expires_at": receipt.expires_at.isoformat(),
        "claimed_at": receipt.claimed_at.isoformat() if receipt.claimed_at else None,
        "customer": customer,
        "outlet": outlet,
    }


def _purchase_body(
    source: str,
    external_id: str,
    code: str,
    first_name: str,
    result: PurchaseResult,
    now: datetime,
    occurred_at: datetime | None,
) -> dict[str, object]:
    card = result.card
    return {
        "id": source,
        "external_id": external_id,
        "customer": {"code": code, "first_name": first_name},
        "stamps_added": result.stamps_added,
        "points_added": result.points_added,
        "card": {
            "stamps": card.stamps,
            "stamps_required": card.stamps_required,
            "points": card.points,
            "rewards_held": card.open_rewards,
            "tier": card.tier or None,
        },
        "rewards_issued": [reward.code for reward in result.new_rewards],
        "occurred_at": occurred_at.isoformat() if occurred_at else None,
        "credited_at": now.isoformat(),
    }


_MISMATCH = ApiError(
    422, "idempotency_mismatch", "This Idempotency-Key was used with another body.", "Idempotency-Key"
)
_REFUND_REFUSALS = {
    "refunded": ("already_refunded", "This purchase was refunded before."),
    "reward_used": ("reward_used", "A reward this purchase issued was used; it cannot be taken back."),
    "voucher_used": (
        "voucher_used",
        "A partner's voucher this purchase gave was used at the partner; it cannot be taken back.",
    ),
    "points_spent": (
        "points_spent",
        "The customer spent this purchase's points; adjust their balance instead.",
    ),
}


CURSOR_PATTERN = r"^c(0|[1-9][0-9]{0,17})$"  # "c" and the row id a page stands after
_CURSOR = re.compile(CURSOR_PATTERN)


def _cursor(row_id: int) -> str:
    return f"c{row_id}"


def parse_cursor(cursor: str | None) -> int:
    """A page's cursor back to the row id it stands after (0 for the first page)."""
    if not cursor:
        return 0
    if _CURSOR.fullmatch(cursor):
        return int(cursor[1:])
    raise ApiError(422, "invalid_cursor", "This cursor is not one the API gave.", "cursor")


def page(items: list[dict[str, object]], ids: list[int], size: int, after: int) -> dict[str, object]:
    """A page of ``size`` from the rows read (one more than a page, to tell whether more follow)
    and where to go on from: ``next_cursor`` is always given (on the last page too, so a client
    following the feed asks again later from where it stopped); ``has_more`` says whether more
    rows are there now."""
    shown = ids[:size]
    return {
        "data": items[:size],
        "next_cursor": _cursor(shown[-1] if shown else after),
        "has_more": len(ids) > size,
    }


def dumps(body: object) -> str:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)
