"""Receipt codes over real HTTP: the till prints a one-time link and QR for a customer who is not
there; the first person who opens it gets the sale credited (joining the shop first if new), once,
with the rules of any sale; five people racing for one receipt on SQLite and PostgreSQL, one gets
it; a refund before anyone claims it voids it; links expire; guessing is throttled; /stats counts
printed against claimed."""

from __future__ import annotations

import asyncio
import base64

import httpx
import pytest
from sqlalchemy import text

from kartu.loyalty.clock import FrozenClock
from kartu.loyalty.receipts import ReceiptRefused
from kartu.services.container import Services
from kartu.services.customers import ReceiptClaim, TelegramProfile
from kartu.storage.database import Database
from tests.api.keys import fresh

OWNER = 100
BOT = "kopi_senja_bot"


async def _shop(services: Services) -> dict[str, str]:
    services.api.settings.bot_username = BOT
    await services.merchants.create_merchant("Kopi Senja", OWNER)
    key, _ = await services.api.create_key(OWNER, "earn,read", "Till 1")
    return {"Authorization": f"Bearer {key}"}


async def _print(client: httpx.AsyncClient, auth: dict[str, str], **sale: object) -> dict[str, object]:
    answer = await client.post("/v1/receipts", json={"external_id": "R-1", **sale}, headers=fresh(auth))
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def _token(receipt: dict[str, object]) -> str:
    return str(receipt["link"]).split("start=rcpt_", 1)[1]


async def _purchases(db: Database, source: str) -> int:
    async with db.read() as uow:
        count = await uow.session.scalar(
            text("SELECT count(*) FROM ledger_entry WHERE idempotency_key = :k"), {"k": f"purchase:{source}"}
        )
    return int(count or 0)


async def test_the_first_to_open_a_receipt_gets_it_and_the_next_is_told_it_was_used(
    services: Services, db: Database, api_url: str
) -> None:
    auth = await _shop(services)
    async with httpx.AsyncClient(base_url=api_url) as client:
        once = {**auth, "Idempotency-Key": "print-1"}
        answer = await client.post("/v1/receipts", json={"external_id": "R-1", "stamps": 2}, headers=once)
        assert answer.status_code == 201, answer.text
        receipt = answer.json()
        assert receipt["link"].startswith(f"https://t.me/{BOT}?start=rcpt_") and len(_token(receipt)) == 22
        assert base64.b64decode(receipt["qr_png"]).startswith(b"\x89PNG") and receipt["qr_svg"].startswith(
            "<svg"
        )
        assert receipt["status"] == "open" and receipt["customer"] is None
        again = await client.post("/v1/receipts", json={"external_id": "R-1", "stamps": 2}, headers=once)
        assert again.text == answer.text and again.headers["idempotent-replayed"] == "true"
        twice = await client.post("/v1/receipts", json={"external_id": "R-1"}, headers=fresh(auth))
        assert twice.status_code == 409 and twice.json()["code"] == "already_credited"
        # A sale with the receipt's external_id is the same sale: refused, on either path.
        ayu = await services.customers.start(TelegramProfile(4001, "Ayu"), "m_kopi-senja")
        assert ayu.joined is not None
        sale = {"customer": {"code": ayu.joined.card.personal_code}, "external_id": "R-1"}
        same = await client.post("/v1/purchases", json=sale, headers=fresh(auth))
        assert same.status_code == 409 and same.json()["code"] == "already_credited"

        claim = await services.customers.claim_receipt(TelegramProfile(4001, "Ayu"), _token(receipt))
        assert not claim.joined.newly_joined and claim.result.stamps_added == 2
        for someone in (TelegramProfile(4002, "Budi"), TelegramProfile(4001, "Ayu")):
            with pytest.raises(ReceiptRefused) as refused:
                await services.customers.claim_receipt(someone, _token(receipt))
            assert refused.value.reason == "claimed"
        state = (await client.get(f"/v1/receipts/{receipt['id']}", headers=auth)).json()
        assert state["status"] == "claimed" and state["customer"] == claim.joined.card.personal_code
        card = (await client.get(f"/v1/customers/{state['customer']}", headers=auth)).json()
        assert card["stamps"] == 2
        # Its id refunds it like a purchase's: the stamps come off.
        refund = await client.post(f"/v1/purchases/{receipt['id']}/refund", headers=fresh(auth))
        assert refund.status_code == 200 and refund.json()["stamps_removed"] == 2
    assert await _purchases(db, str(receipt["id"])) == 1


async def test_five_people_racing_for_one_receipt_one_gets_it(
    services: Services, db: Database, api_url: str
) -> None:
    auth = await _shop(services)
    async with httpx.AsyncClient(base_url=api_url) as client:
        receipt = await _print(client, auth)
    people = [TelegramProfile(4100 + number, f"P{number}") for number in range(5)]
    for person in people:  # all of them customers already: the race is for the receipt only
        await services.customers.start(person, "m_kopi-senja")
    outcomes = await asyncio.gather(
        *(services.customers.claim_receipt(person, _token(receipt)) for person in people),
        return_exceptions=True,
    )
    won = [outcome for outcome in outcomes if isinstance(outcome, ReceiptClaim)]
    lost = [outcome for outcome in outcomes if isinstance(outcome, ReceiptRefused)]
    assert len(won) == 1 and len(lost) == 4, outcomes
    assert {refusal.reason for refusal in lost} == {"claimed"}
    assert await _purchases(db, str(receipt["id"])) == 1


async def test_a_refund_before_anyone_claims_voids_the_receipt(services: Services, api_url: str) -> None:
    auth = await _shop(services)
    async with httpx.AsyncClient(base_url=api_url) as client:
        receipt = await _print(client, auth)
        refund = await client.post(f"/v1/purchases/{receipt['id']}/refund", headers=fresh(auth))
        assert refund.status_code == 200 and refund.json()["customer"] is None
        with pytest.raises(ReceiptRefused) as refused:
            await services.customers.claim_receipt(TelegramProfile(4001, "Ayu"), _token(receipt))
        assert refused.value.reason == "void"
        again = await client.post(f"/v1/purchases/{receipt['id']}/refund", headers=fresh(auth))
        assert again.status_code == 409 and again.json()["code"] == "already_refunded"
        assert (await client.get(f"/v1/receipts/{receipt['id']}", headers=auth)).json()["status"] == "void"


async def test_a_receipt_link_expires_and_guessing_is_throttled(
    services: Services, clock: FrozenClock, api_url: str
) -> None:
    auth = await _shop(services)
    async with httpx.AsyncClient(base_url=api_url) as client:
        short = await _print(client, auth, expires_in=60)
        later = await _print(client, auth, external_id="R-2")
        clock.advance(minutes=2)
        ayu = TelegramProfile(4001, "Ayu")
        with pytest.raises(ReceiptRefused) as refused:
            await services.customers.claim_receipt(ayu, _token(short))
        assert refused.value.reason == "expired"
        assert (await client.get(f"/v1/receipts/{short['id']}", headers=auth)).json()["status"] == "expired"
        for guess in range(9):  # ten links that credit nothing in a minute (the expired one counts)
            with pytest.raises(ReceiptRefused):
                await services.customers.claim_receipt(ayu, f"guess{guess:017d}")
        with pytest.raises(ReceiptRefused) as refused:
            await services.customers.claim_receipt(ayu, _token(later))  # even a good one waits now
        assert refused.value.reason == "throttled"
        clock.advance(minutes=1)
        assert (await services.customers.claim_receipt(ayu, _token(later))).result.stamps_added == 1
        stats = await services.reports.stats(OWNER)
        assert stats.receipts == (2, 1)  # printed, claimed


async def test_a_receipt_is_checked_as_a_sale_when_printed(services: Services, api_url: str) -> None:
    auth = await _shop(services)
    await services.merchants.choose_kinds(OWNER, False, True)  # points only
    async with httpx.AsyncClient(base_url=api_url) as client:
        no_amount = await client.post("/v1/receipts", json={"external_id": "R-9"}, headers=fresh(auth))
        assert no_amount.status_code == 422 and no_amount.json()["code"] == "amount_required"
        long = await client.post(
            "/v1/receipts",
            json={"external_id": "R-9", "amount": 5000, "expires_in": 31 * 86400},
            headers=fresh(auth),
        )
        assert long.status_code == 422 and long.json()["field"] == "expires_in"
        services.api.settings.bot_username = ""
        unnamed = await client.post(
            "/v1/receipts", json={"external_id": "R-9", "amount": 5000}, headers=fresh(auth)
        )
        assert unnamed.status_code == 503 and unnamed.json()["code"] == "unavailable"
        services.api.settings.bot_username = BOT
        receipt = await _print(client, auth, external_id="R-9", amount=125_000)
    claim = await services.customers.claim_receipt(TelegramProfile(4001, "Ayu"), _token(receipt))
    assert claim.result.points_added > 0 and claim.result.stamps_added == 0
    assert (claim.result.card.points or 0) > 0  # on the card
