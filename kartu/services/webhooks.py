"""Webhooks out: owners register their systems' addresses (in chat or over the API) with the events
they want; each event is written as a delivery in its own transaction (the helpers below, as the
outbox is), and the scheduler sends them signed, retrying with backoff, telling the owner once
when deliveries are given up or an endpoint is paused."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import time
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from urllib.parse import urlsplit

import aiohttp

from kartu.loyalty.delivery import Category, Kind
from kartu.loyalty.errors import InvalidSetting, PromptClosed
from kartu.loyalty.staff import Role
from kartu.loyalty.webhooks import (
    ENDPOINTS_MAX,
    EVENTS,
    GIVE_UP_AFTER,
    ROTATION_OVERLAP,
    STANDARD,
    Signing,
    after_failure,
    customer,
    new_secret,
    parse_events,
    parse_url,
    public_address,
    reward_data,
    should_pause,
)
from kartu.services.access import require_owner
from kartu.services.base import ServiceBase
from kartu.storage.models import Person, Reward, WebhookEndpoint
from kartu.storage.unit_of_work import UnitOfWork
from kartu.storage.webhooks import ping

log = logging.getLogger(__name__)
TIMEOUT = 10.0  # seconds an endpoint has to answer
BATCH = 100  # deliveries a dispatch run takes
AT_ONCE = 20  # of them sent at the same time


# -- events, written in the transaction of what happened ------------------------------------------


async def tell(
    uow: UnitOfWork,
    now: datetime,
    merchant_id: int,
    kind: str,
    key: str,
    person: Person,
    data: dict[str, object],
) -> None:
    """Event ``kind`` about ``person`` for the shop's endpoints that take it."""
    await uow.counter.emit(
        merchant_id=merchant_id,
        kind=kind,
        key=key,
        person_id=person.id,
        data={"customer": customer(person.personal_code, person.first_name), **data},
        now=now,
    )


async def reward_issued(uow: UnitOfWork, now: datetime, reward: Reward, person: Person) -> None:
    await uow.counter.emit(
        merchant_id=reward.merchant_id,
        kind="reward.issued",
        key=str(reward.id),
        person_id=person.id,
        data=reward_data(
            customer(person.personal_code, person.first_name), reward.code, reward.name, reward.expires_at
        ),
        now=now,
    )


async def reward_voided(uow: UnitOfWork, now: datetime, reward: Reward) -> None:
    """A refund took back ``reward``: for the systems of the shop that honours it (a partner's, for
    a voucher)."""
    person = await uow.people.get(reward.person_id)
    if person is None:
        return
    await tell(
        uow,
        now,
        reward.merchant_id,
        "reward.voided",
        str(reward.id),
        person,
        {
            "reward": {"code": reward.code, "name": reward.name},
            "voided_at": now.isoformat(),
            "reason": "refund",
        },
    )


async def reward_redeemed(uow: UnitOfWork, now: datetime, reward: Reward, person: Person) -> None:
    await tell(
        uow,
        now,
        reward.merchant_id,
        "reward.redeemed",
        str(reward.id),
        person,
        {"reward": {"code": reward.code, "name": reward.name}, "redeemed_at": now.isoformat()},
    )


# -- endpoints ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EndpointView:
    endpoint_id: int
    url: str
    events: tuple[str, ...]
    status: str
    failing_since: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    backlog: int = 0
    signing: str = STANDARD
    previous_until: datetime | None = None

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.endpoint_id,
            "url": self.url,
            "events": list(self.events),
            "status": self.status,
            "failing_since": self.failing_since.isoformat() if self.failing_since else None,
            "last_success_at": self.last_success_at.isoformat() if self.last_success_at else None,
            "pending": self.backlog,
            "signing": self.signing,
            "previous_secret_until": self.previous_until.isoformat() if self.previous_until else None,
        }


def _view(endpoint: WebhookEndpoint, backlog: int = 0) -> EndpointView:
    return EndpointView(
        endpoint.id or 0,
        endpoint.url,
        tuple(endpoint.events.split(",")),
        endpoint.status,
        endpoint.failing_since,
        endpoint.last_success_at,
        endpoint.last_error,
        backlog,
        endpoint.signing,
        endpoint.previous_until,
    )


@dataclass(frozen=True)
class Dispatched:
    claimed: int = 0
    delivered: int = 0
    failed_attempts: int = 0
    given_up: int = 0


async def _resolves_public(url: str) -> bool:
    """Every address the endpoint's name resolves to is public: a shop's webhook is no way into
    the operator's own network. (A name that changes its answer between this check and the
    connection is not caught here; the operator's egress rules are the last word.)"""
    host = urlsplit(url).hostname or ""
    try:
        found = await asyncio.get_running_loop().getaddrinfo(host, None)
    except OSError:
        return False
    return bool(found) and all(public_address(ipaddress.ip_address(str(info[4][0]))) for info in found)


def _signing(endpoint: WebhookEndpoint) -> Signing:
    return Signing(
        endpoint.signing,
        endpoint.secret,
        endpoint.previous_signing,
        endpoint.previous_secret,
        endpoint.previous_until,
    )


@lru_cache(maxsize=1)
def _own_names() -> tuple[str, str]:
    """This machine's names: an endpoint there is a way into the operator's own host. Asked once
    (``getfqdn`` may ask the resolver, and blocks)."""
    return socket.gethostname(), socket.getfqdn()


class WebhookService(ServiceBase):
    """Endpoints per shop, and the dispatcher that sends their deliveries."""

    _client: aiohttp.ClientSession | None = None

    # -- endpoints: by the owner in chat, or by a key over the API --------------------------------

    async def _add(
        self, uow: UnitOfWork, merchant_id: int, url: str, events: str | None, actor: int | None
    ) -> tuple[EndpointView, str]:
        address = parse_url(url, self.settings.webhooks_allow_private, _own_names())
        kinds = parse_events(events)
        if len(await uow.webhooks.of_merchant(merchant_id)) >= ENDPOINTS_MAX:
            raise InvalidSetting("endpoints")
        endpoint = await uow.webhooks.add(
            WebhookEndpoint(
                merchant_id=merchant_id,
                url=address,
                secret=new_secret(),
                signing=STANDARD,
                events=kinds,
                created_by_person_id=actor,
                created_at=self.clock.now(),
            )
        )
        await ping(uow.counter.tx, endpoint.id or 0, kinds.split(","), self.clock.now())
        return _view(endpoint), endpoint.secret

    async def add(
        self, owner_telegram_id: int, url: str, events: str | None = None
    ) -> tuple[EndpointView, str]:
        """A new endpoint of the owner's shop, and its signing secret (shown once)."""
        async with self.db.write() as uow:
            place = await require_owner(uow, owner_telegram_id)
            return await self._add(uow, place.merchant.id or 0, url, events, place.person.id)

    async def add_in(
        self, uow: UnitOfWork, merchant_id: int, actor: int | None, url: str, events: str | None
    ) -> tuple[EndpointView, str]:
        """A new endpoint of the shop, in the caller's transaction (the API's, with its Idempotency-Key)."""
        return await self._add(uow, merchant_id, url, events, actor)

    async def endpoints(self, merchant_id: int) -> list[EndpointView]:
        async with self.db.read() as uow:
            return [
                _view(endpoint, await uow.webhooks.backlog(endpoint.id or 0))
                for endpoint in await uow.webhooks.of_merchant(merchant_id)
            ]

    async def endpoints_of_owner(self, owner_telegram_id: int) -> tuple[str, list[EndpointView]]:
        """The shop's time zone and its endpoints."""
        async with self.db.read() as uow:
            place = await require_owner(uow, owner_telegram_id)
            merchant_id, timezone = place.merchant.id or 0, place.merchant.timezone
        return timezone, await self.endpoints(merchant_id)

    async def _change(self, merchant_id: int, endpoint_id: int, action: str) -> EndpointView:
        async with self.db.write() as uow:
            endpoint = await uow.webhooks.get(endpoint_id, merchant_id)
            if endpoint is None:
                raise PromptClosed("missing")
            if action == "resume":
                await uow.webhooks.resume(endpoint.id or 0, self.clock.now())
                await uow.session.refresh(endpoint)
            else:
                endpoint.status = "deleted" if action == "delete" else "paused"
                await uow.webhooks.save(endpoint)
            return _view(endpoint)

    async def change(self, owner_telegram_id: int, endpoint_id: int, action: str) -> EndpointView:
        """``pause``, ``resume`` or ``delete`` one of the owner's endpoints."""
        async with self.db.read() as uow:
            place = await require_owner(uow, owner_telegram_id)
            merchant_id = place.merchant.id or 0
        return await self._change(merchant_id, endpoint_id, action)

    async def toggle_event(self, owner_telegram_id: int, endpoint_id: int, event_index: int) -> EndpointView:
        """Add event ``EVENTS[event_index]`` to the endpoint's, or take it off (never the last one:
        delete the endpoint)."""
        async with self.db.write() as uow:
            place = await require_owner(uow, owner_telegram_id)
            endpoint = await uow.webhooks.get(endpoint_id, place.merchant.id or 0)
            if endpoint is None or not 0 <= event_index < len(EVENTS):
                raise PromptClosed("missing")
            event = EVENTS[event_index]
            taken = set(endpoint.events.split(",")) ^ {event}
            if not taken:
                raise InvalidSetting("events")
            endpoint.events = ",".join(kind for kind in EVENTS if kind in taken)
            await uow.webhooks.save(endpoint)
            return _view(endpoint)

    async def endpoint_of_owner(self, owner_telegram_id: int, endpoint_id: int) -> EndpointView:
        async with self.db.read() as uow:
            place = await require_owner(uow, owner_telegram_id)
            endpoint = await uow.webhooks.get(endpoint_id, place.merchant.id or 0)
            if endpoint is None:
                raise PromptClosed("missing")
            return _view(endpoint)

    async def change_for(self, merchant_id: int, endpoint_id: int, action: str) -> EndpointView:
        return await self._change(merchant_id, endpoint_id, action)

    async def rotate_in(
        self, uow: UnitOfWork, merchant_id: int, endpoint_id: int
    ) -> tuple[EndpointView, str]:
        """A new signing secret for one of the shop's endpoints (Standard Webhooks from now on),
        shown once. For a day the old secret signs too (its own header if it was Kartu's, a second
        ``webhook-signature`` entry if it was standard), so the receiver can switch without missing
        a delivery."""
        endpoint = await uow.webhooks.get(endpoint_id, merchant_id)
        if endpoint is None or endpoint.status == "deleted":
            raise PromptClosed("missing")
        now = self.clock.now()
        endpoint.previous_secret, endpoint.previous_signing = endpoint.secret, endpoint.signing
        endpoint.previous_until = now + ROTATION_OVERLAP
        endpoint.secret, endpoint.signing = new_secret(), STANDARD
        await uow.webhooks.save(endpoint)
        return _view(endpoint), endpoint.secret

    async def rotate(self, owner_telegram_id: int, endpoint_id: int) -> tuple[EndpointView, str]:
        """The owner's rotation, from /webhooks."""
        async with self.db.write() as uow:
            place = await require_owner(uow, owner_telegram_id)
            return await self.rotate_in(uow, place.merchant.id or 0, endpoint_id)

    # -- delivering ---------------------------------------------------------------------------------

    def client(self) -> aiohttp.ClientSession:
        if self._client is None or self._client.closed:
            self._client = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=TIMEOUT),
                headers={"User-Agent": "Kartu-Webhooks/1", "Content-Type": "application/json"},
            )
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def dispatch(self, limit: int = BATCH) -> Dispatched:
        """Send the deliveries due now (a customer's in order), then record each outcome."""
        now = self.clock.now()
        async with self.db.read() as uow:  # nothing to send (the usual run): no write transaction
            if not await uow.webhooks.any_open():
                return Dispatched()
        async with self.db.write() as uow:
            for endpoint_id in await uow.webhooks.give_up_stale(now, now - GIVE_UP_AFTER):
                await self._tell_owner(uow, endpoint_id, "failed", now)
            claimed = await uow.webhooks.claim(now, limit)
        if not claimed:
            return Dispatched()
        gate = asyncio.Semaphore(AT_ONCE)

        async def send(
            delivery_payload: str, url: str, signing: Signing, event: str, kind: str
        ) -> str | None:
            body = delivery_payload.encode()
            headers = signing.headers(event, kind, int(time.time()), body, now)
            async with gate:
                if not self.settings.webhooks_allow_private and not await _resolves_public(url):
                    return "the address does not resolve to a public host"
                try:
                    async with self.client().post(
                        url, data=body, headers=headers, allow_redirects=False
                    ) as answer:
                        status = answer.status
                except (aiohttp.ClientError, TimeoutError) as error:
                    return f"{type(error).__name__}: {error}"[:200]
            return None if 200 <= status < 300 else f"HTTP {status}"

        errors = await asyncio.gather(
            *(
                send(
                    delivery.payload, endpoint.url, _signing(endpoint), delivery.event_id, delivery.event_type
                )
                for delivery, endpoint in claimed
            )
        )
        taken = [pair for pair, error in zip(claimed, errors, strict=True) if error is None]
        delivered, failed, given_up = len(taken), 0, 0
        now = self.clock.now()
        async with self.db.write() as uow:
            await uow.webhooks.delivered(
                [delivery.id or 0 for delivery, _ in taken],
                sorted({endpoint.id or 0 for _, endpoint in taken}),
                now,
            )
            for (delivery, endpoint), error in zip(claimed, errors, strict=True):
                if error is None:
                    continue
                failed += 1
                outcome = after_failure(delivery.attempts + 1, delivery.created_at, now)
                await uow.webhooks.attempt_failed(delivery.id or 0, outcome.retry_at, error, now)
                failing = await uow.webhooks.endpoint_failing(endpoint.id or 0, error, now)
                if outcome.retry_at is None:
                    given_up += 1
                    await self._tell_owner(uow, endpoint.id or 0, "failed", now)
                if (
                    failing is not None
                    and failing.status == "active"
                    and should_pause(failing.failing_since, now)
                ):
                    failing.status = "paused"
                    await uow.webhooks.save(failing)
                    await self._tell_owner(uow, failing.id or 0, "paused", now)
        return Dispatched(len(claimed), delivered, failed, given_up)

    async def _tell_owner(self, uow: UnitOfWork, endpoint_id: int, state: str, now: datetime) -> None:
        """The shop's owners hear once per stretch of failures that deliveries were given up
        (``failed``) or the endpoint was paused (``paused``)."""
        endpoint = await uow.webhooks.get(endpoint_id)
        if endpoint is None:
            return
        since = (endpoint.failing_since or now).isoformat()
        for member, person in await uow.staff.roster(endpoint.merchant_id):
            if member.role != Role.OWNER:
                continue
            await uow.outbox.enqueue(
                key=f"webhook-{state}:{endpoint.id}:{since}:{member.id}",
                kind=Kind.WEBHOOK_ALERT,
                category=Category.ALERT,
                chat_id=person.telegram_id,
                person_id=person.id,
                merchant_id=endpoint.merchant_id,
                subject_id=endpoint.id,
                params={"state": state, "url": endpoint.url},
                now=now,
                not_before=now,
            )
