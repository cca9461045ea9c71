"""Webhooks out, to a real receiver on 127.0.0.1 that checks every signature: the events of joins,
purchases, rewards and redemptions arrive once each, in order per customer, even after the
receiver was down for a while; an endpoint failing for a day is paused and the owner told once;
replayed and tampered deliveries fail verification; endpoints are managed over the API."""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from aiohttp import web
from sqlalchemy import text
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from kartu.config import Settings
from kartu.loyalty.clock import FrozenClock
from kartu.loyalty.errors import InvalidSetting, LoyaltyError
from kartu.loyalty.webhooks import (
    EVENTS,
    STANDARD,
    Signing,
    after_failure,
    new_secret,
    parse_url,
    sign,
    verify,
)
from kartu.sandbox.serving import serve_on_free_port
from kartu.services.container import Services
from kartu.services.customers import TelegramProfile
from kartu.storage.database import Database
from tests.api.keys import fresh

OWNER = 100


@dataclass
class Receiver:
    """A shop's system: verifies each delivery's signature, keeps what it accepted."""

    url: str = ""
    secret: str = ""  # the endpoint's Standard Webhooks secret (whsec_…)
    legacy_secret: str = ""  # an endpoint made before Standard Webhooks: Kartu-Signature with this
    up: bool = True
    accepted: list[dict[str, object]] = field(default_factory=list)
    deliveries: list[str] = field(default_factory=list)
    refused_signatures: int = 0
    attempts: int = 0
    headers: list[dict[str, str]] = field(default_factory=list)  # of each delivery accepted

    async def handle(self, request: web.Request) -> web.Response:
        self.attempts += 1
        body = await request.read()
        if not self.up:
            return web.Response(status=503)
        if not self.verified(request.headers, body):
            self.refused_signatures += 1
            return web.Response(status=400)
        self.deliveries.append(request.headers.get("webhook-id") or request.headers["Kartu-Delivery"])
        self.headers.append({name.lower(): value for name, value in request.headers.items()})
        self.accepted.append(json.loads(body))
        return web.Response(status=204)

    def verified(self, headers: Mapping[str, str], body: bytes) -> bool:
        """As an integrator checks: the published Standard Webhooks library, or (an endpoint made
        before, not rotated) the documented Kartu-Signature check (docs/api.md)."""
        if self.legacy_secret:
            return verify(self.legacy_secret, headers.get("Kartu-Signature", ""), body, int(time.time()))
        try:
            Webhook(self.secret).verify(body, {name.lower(): value for name, value in headers.items()})
        except WebhookVerificationError:
            return False
        return True


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    state = Receiver()
    app = web.Application()
    app.router.add_post("/hooks", state.handle)
    runner, port = await serve_on_free_port(app)
    state.url = f"http://127.0.0.1:{port}/hooks"
    try:
        yield state
    finally:
        await runner.cleanup()


def test_signatures_verify_and_replayed_or_tampered_deliveries_fail() -> None:
    secret, body, now = "whsec_test", b'{"id":"evt_1","type":"purchase.credited"}', int(time.time())
    header = sign(secret, now, body)
    assert verify(secret, header, body, now)
    assert not verify(secret, header, body.replace(b"purchase", b"purchasf"), now)  # tampered body
    assert not verify("whsec_other", header, body, now)  # another endpoint's secret
    assert not verify(secret, header, body, now + 600)  # replayed ten minutes later
    assert not verify(secret, header.replace(f"t={now}", f"t={now + 1}"), body, now)  # timestamp moved
    assert not verify(secret, "v1=abc", body, now)


def test_endpoint_addresses_and_the_retry_schedule() -> None:
    assert parse_url("https://pos.example.com/kartu") == "https://pos.example.com/kartu"
    for bad in (
        "http://pos.example.com/k",
        "https://127.0.0.1/k",
        "https://10.0.0.8/k",
        "https://localhost/k",
        "ftp://x.com",
        "https://user:pw@x.com/",
        "https://[::1]/k",
        "not a url",
        "http://oS]&\uda7e\udf56",  # found by Schemathesis: a broken IPv6 host and lone surrogates
        "https://pos.example.com:99999/k",
        "https://pos.example.com/k\u0000",
    ):
        with pytest.raises(InvalidSetting):
            parse_url(bad)
    assert parse_url("http://127.0.0.1:9000/k", allow_private=True)
    with pytest.raises(InvalidSetting):
        parse_url("http://[::1/k", allow_private=True)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    waits, now, attempts = [], start, 0
    while True:
        attempts += 1
        retry = after_failure(attempts, start, now).retry_at
        if retry is None:
            break
        waits.append(retry - now)
        now = retry
    assert waits[0] < timedelta(seconds=40) and max(waits) <= timedelta(hours=7.2)
    assert all(
        later >= earlier * 1.5 for earlier, later in zip(waits[:6], waits[1:7], strict=True)
    )  # exponential
    assert timedelta(days=2) < now - start <= timedelta(days=3)  # given up within three days


async def _pending(db: Database) -> int:
    async with db.read() as uow:
        return int(
            await uow.session.scalar(
                text("SELECT count(*) FROM webhook_delivery WHERE status IN ('pending', 'sending')")
            )
            or 0
        )


async def test_a_receiver_that_was_down_gets_every_event_once_in_order_per_customer(
    services: Services, db: Database, clock: FrozenClock, receiver: Receiver, api_url: str
) -> None:
    created = await services.merchants.create_merchant("Kopi Senja", OWNER)
    await services.merchants.change_program(OWNER, "daily_stamp_cap", "0")
    endpoint, receiver.secret = await services.webhooks.add(OWNER, receiver.url)
    assert endpoint.events[0] == "member.joined" and len(endpoint.events) == len(EVENTS)
    key, _ = await services.api.create_key(OWNER, "earn,redeem,read")
    codes = {}
    for telegram_id, name in ((3001, "Ayu"), (3002, "Budi")):
        joined = await services.customers.start(TelegramProfile(telegram_id, name), f"m_{created.slug}")
        assert joined.joined is not None
        codes[name] = joined.joined.card.personal_code
    receiver.up = False
    auth = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=api_url) as client:
        for number, (name, stamps) in enumerate(
            (("Ayu", 4), ("Budi", 2), ("Ayu", 6), ("Budi", 1), ("Ayu", 1))
        ):
            sale = {"customer": {"code": codes[name]}, "stamps": stamps, "external_id": f"T-{number}"}
            answer = await client.post(
                "/v1/purchases", json=sale, headers={**auth, "Idempotency-Key": f"k{number}"}
            )
            assert answer.status_code == 201, answer.text
            if answer.json()["rewards_issued"]:
                reward = answer.json()["rewards_issued"][0]
        redeemed = await client.post(f"/v1/rewards/{reward}/redeem", headers=fresh(auth))
        assert redeemed.status_code == 200
        refunded = await client.post(
            f"/v1/purchases/api-{created.merchant_id}-T-3/refund", headers={**auth, "Idempotency-Key": "r"}
        )
        assert refunded.status_code == 200

    for _ in range(4):  # down: only each customer's oldest event (and the ping) is tried, again later
        report = await services.webhooks.dispatch()
        assert report.claimed == 3 and report.delivered == 0
        clock.advance(minutes=30)
    receiver.up = True
    for _ in range(40):
        clock.advance(hours=1)
        await services.webhooks.dispatch()
        if not await _pending(db):
            break
    assert receiver.refused_signatures == 0
    assert len(receiver.deliveries) == len(set(receiver.deliveries)) == 11  # each event once
    (ping,) = [event for event in receiver.accepted if event["type"] == "ping"]
    assert ping["data"] == {"endpoint_id": endpoint.endpoint_id, "events": list(endpoint.events)}
    per_customer: dict[str, list[str]] = {}
    for event in receiver.accepted:
        if event["type"] == "ping":
            continue
        data = event["data"]
        assert isinstance(data, dict)
        per_customer.setdefault(data["customer"]["code"], []).append(str(event["type"]))
    assert per_customer[codes["Ayu"]] == [
        "member.joined",
        "purchase.credited",
        "purchase.credited",
        "reward.issued",
        "purchase.credited",
        "reward.redeemed",
    ]
    assert per_customer[codes["Budi"]] == [
        "member.joined",
        "purchase.credited",
        "purchase.credited",
        "purchase.refunded",
    ]
    sale = next(event for event in receiver.accepted if event["type"] == "purchase.credited")
    assert sale["data"]["stamps_added"] == 4 and sale["data"]["purchase_id"].endswith("-T-0")  # type: ignore[index]
    (view,) = await services.webhooks.endpoints(created.merchant_id)
    assert view.status == "active" and view.failing_since is None and view.last_success_at is not None


async def test_an_endpoint_failing_for_a_day_is_paused_and_the_owner_told_once(
    services: Services, db: Database, clock: FrozenClock, receiver: Receiver
) -> None:
    created = await services.merchants.create_merchant("Kopi Senja", OWNER)
    endpoint, receiver.secret = await services.webhooks.add(OWNER, receiver.url, "member.joined")
    receiver.up = False
    for telegram_id in range(3001, 3004):
        await services.customers.start(TelegramProfile(telegram_id, "C"), f"m_{created.slug}")
    for _ in range(30):
        await services.webhooks.dispatch()
        clock.advance(hours=2)
    (view,) = await services.webhooks.endpoints(created.merchant_id)
    assert view.status == "paused" and view.backlog == 4  # three joins and the ping
    tried = receiver.attempts
    clock.advance(hours=6)
    assert (await services.webhooks.dispatch()).claimed == 0 and receiver.attempts == tried
    async with db.read() as uow:
        alerts = (
            await uow.session.execute(text("SELECT params FROM outbox_message WHERE kind = 'webhook_alert'"))
        ).all()
    assert [json.loads(row[0])["state"] for row in alerts] == ["paused"]
    # The owner fixed it and resumes: what waited is sent now, in order.
    receiver.up = True
    await services.webhooks.change(OWNER, endpoint.endpoint_id, "resume")
    report = await services.webhooks.dispatch()
    while await _pending(db):
        report = await services.webhooks.dispatch()
    assert report.delivered and len(receiver.accepted) == 4


async def test_events_older_than_three_days_are_given_up_and_the_owner_told(
    services: Services, db: Database, clock: FrozenClock, receiver: Receiver
) -> None:
    created = await services.merchants.create_merchant("Kopi Senja", OWNER)
    endpoint, receiver.secret = await services.webhooks.add(OWNER, receiver.url)
    await services.webhooks.change(OWNER, endpoint.endpoint_id, "pause")
    await services.webhooks.change(OWNER, endpoint.endpoint_id, "resume")
    receiver.up = False
    await services.customers.start(TelegramProfile(3001, "C"), f"m_{created.slug}")
    await services.webhooks.dispatch()  # fails: the endpoint starts failing
    clock.advance(days=3, minutes=1)
    report = await services.webhooks.dispatch()
    assert report.claimed == 0 and await _pending(db) == 0
    async with db.read() as uow:
        states = (await uow.session.execute(text("SELECT status FROM webhook_delivery"))).scalars().all()
        alerts = (
            await uow.session.execute(text("SELECT params FROM outbox_message WHERE kind = 'webhook_alert'"))
        ).all()
    assert states == ["failed", "failed"]  # the ping and the join
    assert [json.loads(row[0])["state"] for row in alerts] == ["failed"]  # told once


async def test_endpoints_are_managed_over_the_api(
    services: Services, api_url: str, receiver: Receiver
) -> None:
    await services.merchants.create_merchant("Kopi Senja", OWNER)
    plain_key, _ = await services.api.create_key(OWNER, "earn,read")
    key, _ = await services.api.create_key(OWNER, "webhooks")
    auth = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=api_url) as client:
        denied = await client.post(
            "/v1/webhooks", json={"url": receiver.url}, headers={"Authorization": f"Bearer {plain_key}"}
        )
        assert denied.status_code == 403
        wrong = await client.post(
            "/v1/webhooks", json={"url": receiver.url, "events": ["sale.made"]}, headers=fresh(auth)
        )
        assert wrong.status_code == 422 and wrong.json()["field"].startswith("events")
        hook = {"url": receiver.url, "events": ["purchase.credited", "reward.issued"]}
        once = {**auth, "Idempotency-Key": "hook-1"}
        made = await client.post("/v1/webhooks", json=hook, headers=once)
        assert made.status_code == 201 and made.json()["secret"].startswith("whsec_")
        # A retry (the answer was lost) gets the same endpoint and secret, not a second endpoint.
        retried = await client.post("/v1/webhooks", json=hook, headers=once)
        assert retried.text == made.text and retried.headers["Idempotent-Replayed"] == "true"
        listed = (await client.get("/v1/webhooks", headers=auth)).json()["data"]
        assert [hook["events"] for hook in listed] == [["purchase.credited", "reward.issued"]]
        assert "secret" not in listed[0]
        gone = await client.delete(f"/v1/webhooks/{made.json()['id']}", headers=auth)
        assert (
            gone.status_code == 200 and (await client.get("/v1/webhooks", headers=auth)).json()["data"] == []
        )
        assert (await client.delete(f"/v1/webhooks/{made.json()['id']}", headers=auth)).status_code == 404


def test_the_documented_snippets_verify_deliveries_both_ways() -> None:
    readme = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text()
    snippet = (
        readme.split("Until then, check\neach delivery like this")[1].split("```python\n")[1].split("```")[0]
    )
    assert len(snippet.strip().splitlines()) <= 10
    namespace: dict[str, object] = {}
    exec(snippet, namespace)  # noqa: S102 - our own documentation
    check = namespace["kartu_signature_ok"]
    body, now = b'{"id":"evt_1","type":"member.joined"}', int(time.time())
    header = sign("whsec_x", now, body)
    assert check("whsec_x", header, body)  # type: ignore[operator]
    assert not check("whsec_x", header, body + b" ")  # type: ignore[operator]
    assert not check("whsec_x", sign("whsec_x", now - 600, body), body)  # type: ignore[operator]
    standard = (
        readme.split("Any Standard Webhooks library checks a")[1].split("```python\n")[1].split("```")[0]
    )
    exec(standard, namespace)  # noqa: S102 - our own documentation
    check = namespace["kartu_delivery_ok"]
    secret = new_secret()
    headers = Signing(STANDARD, secret).headers("evt_1", "member.joined", now, body, datetime.now(UTC))
    lowered = {name.lower(): value for name, value in headers.items()}
    assert check(secret, lowered, body)  # type: ignore[operator]
    assert not check(secret, lowered, body + b" ")  # type: ignore[operator]
    assert not check(new_secret(), lowered, body)  # type: ignore[operator]


async def test_a_name_that_resolves_to_a_private_address_gets_nothing(
    services: Services, db: Database, settings: Settings, receiver: Receiver
) -> None:
    created = await services.merchants.create_merchant("Kopi Senja", OWNER)
    port = receiver.url.split(":")[2].split("/")[0]
    await services.webhooks.add(OWNER, f"http://localhost:{port}/hooks")  # allowed by this test's settings
    strict = Services.build(db, settings.model_copy(update={"webhooks_allow_private": False}), FrozenClock())
    await services.customers.start(TelegramProfile(3001, "C"), f"m_{created.slug}")
    report = await strict.webhooks.dispatch()
    assert report.failed_attempts == 2 and receiver.attempts == 0  # the ping and the join
    (view,) = await services.webhooks.endpoints(created.merchant_id)
    assert view.last_error == "the address does not resolve to a public host"


async def test_schedulers_at_once_send_each_event_once_and_a_refused_sale_writes_none(
    services: Services, db: Database, settings: Settings, receiver: Receiver
) -> None:
    created = await services.merchants.create_merchant("Kopi Senja", OWNER)
    _, receiver.secret = await services.webhooks.add(OWNER, receiver.url, "member.joined,purchase.credited")
    for telegram_id in range(3001, 3031):
        await services.customers.start(TelegramProfile(telegram_id, "C"), f"m_{created.slug}")
    schedulers = [Services.build(db, settings, FrozenClock()).webhooks for _ in range(4)]
    for _ in range(3):
        await asyncio.gather(*(scheduler.dispatch(limit=7) for scheduler in schedulers))
    for scheduler in schedulers:
        await scheduler.close()
    assert receiver.refused_signatures == 0
    assert len(receiver.deliveries) == len(set(receiver.deliveries)) == 31  # 30 joins and the ping
    # A sale the daily cap refuses rolls back whole: no event of it is written.
    await services.merchants.change_program(OWNER, "daily_stamp_cap", "1")
    key, _ = await services.api.create_key(OWNER, "earn")
    async with db.read() as uow:
        code = await uow.session.scalar(text("SELECT personal_code FROM person WHERE telegram_id = 3001"))
    principal = await services.api.authenticate(key)
    for number in range(3):  # one stamp a day
        try:
            async with db.write() as uow:
                await services.api.purchase(
                    uow,
                    principal,
                    code=code,
                    telegram_id=None,
                    amount=None,
                    stamps=None,
                    external_id=f"cap-{number}",
                    to_scheduler=True,
                )
        except LoyaltyError:
            pass
    async with db.read() as uow:
        sales = await uow.session.scalar(
            text("SELECT count(*) FROM webhook_delivery WHERE event_type = 'purchase.credited'")
        )
    assert sales == 1


def _standard_ok(secret: str, headers: dict[str, str], body: bytes) -> bool:
    try:
        Webhook(secret).verify(body, headers)
    except WebhookVerificationError:
        return False
    return True


async def test_an_endpoint_made_before_keeps_its_header_until_rotated_then_both_sign_for_a_day(
    services: Services, db: Database, clock: FrozenClock, receiver: Receiver, api_url: str
) -> None:
    created = await services.merchants.create_merchant("Kopi Senja", OWNER)
    endpoint, _ = await services.webhooks.add(OWNER, receiver.url, "member.joined")
    old = "whsec_" + secrets.token_urlsafe(24)  # as endpoints were made before Standard Webhooks
    async with db.write() as uow:
        await uow.session.execute(
            text("UPDATE webhook_endpoint SET signing = 'kartu', secret = :s WHERE id = :id"),
            {"s": old, "id": endpoint.endpoint_id},
        )
    receiver.legacy_secret = old
    joins = iter(range(3001, 3100))

    async def a_join_delivered() -> tuple[dict[str, str], bytes]:
        await services.customers.start(TelegramProfile(next(joins), "C"), f"m_{created.slug}")
        while await _pending(db):
            await services.webhooks.dispatch()
        return receiver.headers[-1], json.dumps(receiver.accepted[-1], separators=(",", ":")).encode()

    headers, _ = await a_join_delivered()
    assert "kartu-signature" in headers and "webhook-signature" not in headers  # unchanged until rotated
    key, _ = await services.api.create_key(OWNER, "webhooks")
    async with httpx.AsyncClient(base_url=api_url) as client:
        rotated = await client.post(
            f"/v1/webhooks/{endpoint.endpoint_id}/rotate-secret",
            headers=fresh({"Authorization": f"Bearer {key}"}),
        )
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["secret"]
    assert new.startswith("whsec_") and rotated.json()["signing"] == "standard"
    # For a day both sign: the receiver still checking the old way keeps taking deliveries, and a
    # receiver switched to a Standard Webhooks library with the new secret takes them too.
    headers, body = await a_join_delivered()
    assert "kartu-signature" in headers and _standard_ok(new, headers, body)
    clock.advance(hours=25)
    receiver.legacy_secret, receiver.secret = "", new
    headers, body = await a_join_delivered()
    assert "kartu-signature" not in headers and _standard_ok(new, headers, body)
    # A second rotation: the old standard secret is a second webhook-signature entry for a day.
    async with httpx.AsyncClient(base_url=api_url) as client:
        newer = (
            await client.post(
                f"/v1/webhooks/{endpoint.endpoint_id}/rotate-secret",
                headers=fresh({"Authorization": f"Bearer {key}"}),
            )
        ).json()["secret"]
    headers, body = await a_join_delivered()
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert _standard_ok(new, headers, body) and _standard_ok(newer, headers, body)
    assert not _standard_ok(old_standard := "whsec_" + base64.b64encode(b"x" * 32).decode(), headers, body), (
        old_standard
    )
    assert receiver.refused_signatures == 0
