"""A refund over the API takes back everything its sale set off, whatever the kind: a spin of the
wheel (ready, or spun and its prize), a partner's voucher, the shop's gift to a cause, a level; a
referral pays only once the friend's purchase has stood the return window. Over real HTTP on
SQLite and PostgreSQL."""

from __future__ import annotations

import httpx
from sqlalchemy import text

from kartu.loyalty.clock import FrozenClock
from kartu.services.container import Services
from kartu.services.customers import TelegramProfile
from kartu.services.partners import Proposal
from kartu.storage.database import Database
from tests.api.keys import fresh
from tests.invariants import balances_off_their_ledger, effects_left_by_refunds

OWNER, PARTNER_OWNER, CUSTOMER, FRIEND = 100, 110, 3000, 3001


async def _shop(services: Services, *, points: bool = False) -> tuple[str, str, dict[str, str]]:
    """Kopi Senja (stamps, no daily cap; points too if asked) with a customer; (slug, code, auth)."""
    created = await services.merchants.create_merchant("Kopi Senja", OWNER)
    await services.merchants.change_program(OWNER, "daily_stamp_cap", "0")
    if points:
        await services.merchants.choose_kinds(OWNER, True, True)
    joined = await services.customers.start(TelegramProfile(CUSTOMER, "Ayu"), f"m_{created.slug}")
    assert joined.joined is not None
    key, _ = await services.api.create_key(OWNER, "earn,redeem,read")
    return created.slug, joined.joined.card.personal_code, {"Authorization": f"Bearer {key}"}


async def _sell(
    client: httpx.AsyncClient, auth: dict[str, str], code: str, name: str, amount: int | None = None
) -> dict[str, object]:
    body: dict[str, object] = {"customer": {"code": code}, "stamps": 1, "external_id": name}
    if amount is not None:
        body["amount"] = amount
    sold = await client.post("/v1/purchases", json=body, headers={**auth, "Idempotency-Key": name})
    assert sold.status_code == 201, sold.text
    return sold.json()  # type: ignore[no-any-return]


async def _refund(client: httpx.AsyncClient, auth: dict[str, str], sale: dict[str, object]) -> httpx.Response:
    return await client.post(
        f"/v1/purchases/{sale['id']}/refund", headers={**auth, "Idempotency-Key": f"refund-{sale['id']}"}
    )


async def _nets(db: Database, source: object) -> dict[str, int]:
    """What the rows naming the purchase add up to, per asset."""
    async with db.read() as uow:
        rows = await uow.session.execute(
            text("SELECT asset, sum(delta) FROM ledger_entry WHERE origin = :source GROUP BY asset"),
            {"source": source},
        )
        return {str(asset): int(total) for asset, total in rows.all()}


async def _card(db: Database, code: str) -> tuple[int, int]:
    """The customer's stamps and points."""
    async with db.read() as uow:
        row = await uow.session.execute(
            text(
                "SELECT k.stamps, k.points FROM card k JOIN person p ON p.id = k.person_id "
                "WHERE p.personal_code = :code"
            ),
            {"code": code.replace("-", "")},
        )
        stamps, points = row.one()
        return int(stamps), int(points)


async def test_a_refund_voids_the_spin_its_sale_earned_and_takes_back_a_spun_prize(
    services: Services, db: Database, api_url: str
) -> None:
    _, code, auth = await _shop(services)
    await services.wheel.add_prize(OWNER, "2 stamps; 100%")
    await services.wheel.set_rule(OWNER, "every")
    async with httpx.AsyncClient(base_url=api_url) as client:
        ready = await _sell(client, auth, code, "T-spin-ready")
        assert (await services.wheel.for_customer(CUSTOMER)).ready == 1
        refunded = await _refund(client, auth, ready)
        assert refunded.status_code == 200, refunded.text
        assert refunded.json()["spins_voided"] == 1 and refunded.json()["stamps_removed"] == 1
        assert (await services.wheel.for_customer(CUSTOMER)).ready == 0  # /spin offers nothing
        assert await _nets(db, ready["id"]) == {"stamp": 0, "spin": 0}

        spun = await _sell(client, auth, code, "T-spin-spun")
        outcome = await services.wheel.spin(CUSTOMER)
        assert outcome.prize is not None and outcome.prize.amount == 2
        assert await _card(db, code) == (3, 0)  # 1 bought + 2 won
        refunded = await _refund(client, auth, spun)
        assert refunded.status_code == 200, refunded.text
        assert refunded.json()["stamps_removed"] == 3 and refunded.json()["card"]["stamps"] == 0
        assert await _nets(db, spun["id"]) == {"stamp": 0, "spin": 0}


async def test_a_refund_voids_the_partners_voucher_its_sale_gave_and_is_refused_once_it_was_used(
    services: Services, db: Database, api_url: str
) -> None:
    slug, code, auth = await _shop(services, points=True)
    partner = await services.merchants.create_merchant("Toko Emas", PARTNER_OWNER)
    view = await services.partners.propose(
        OWNER, Proposal(partner.slug, "over 150.000", "10% off any ring; 50.000", "30 days; 100 a month")
    )
    await services.partners.decide(PARTNER_OWNER, view.partnerships[0].partnership_id, accept=True)
    partner_key, _ = await services.api.create_key(PARTNER_OWNER, "earn,redeem")
    at_partner = {"Authorization": f"Bearer {partner_key}"}
    async with httpx.AsyncClient(base_url=api_url) as client:
        sale = await _sell(client, auth, code, "T-voucher", 200_000)
        async with db.read() as uow:
            voucher = await uow.session.scalar(
                text("SELECT code FROM reward WHERE partnership_id IS NOT NULL")
            )
        refunded = await _refund(client, auth, sale)
        assert refunded.status_code == 200, refunded.text
        assert refunded.json()["rewards_voided"] == [voucher]
        used = await client.post(f"/v1/rewards/{voucher}/redeem", headers=fresh(at_partner))
        assert used.status_code == 422 and used.json()["code"] == "expired"  # void at the partner
        assert await _nets(db, sale["id"]) == {"stamp": 0, "point": 0, "reward": 0}

        second = await _sell(client, auth, code, "T-voucher-2", 300_000)
        async with db.read() as uow:
            voucher = await uow.session.scalar(
                text("SELECT code FROM reward WHERE partnership_id IS NOT NULL AND expired_at IS NULL")
            )
        assert (
            await client.post(f"/v1/rewards/{voucher}/redeem", headers=fresh(at_partner))
        ).status_code == 200
        refused = await _refund(client, auth, second)
        assert refused.status_code == 409 and refused.json()["code"] == "voucher_used"
    assert slug


async def test_a_referral_pays_only_for_a_first_purchase_that_stood_the_return_window(
    services: Services, db: Database, clock: FrozenClock, api_url: str
) -> None:
    _, _, auth = await _shop(services)
    await services.merchants.change_program(OWNER, "referral_bonus", "2")
    token = (await services.bonuses.invitation(CUSTOMER)).token
    joined = await services.customers.start(TelegramProfile(FRIEND, "Dewi"), f"r_{token}")
    assert joined.joined is not None
    friend = joined.joined.card.personal_code
    async with httpx.AsyncClient(base_url=api_url) as client:
        first = await _sell(client, auth, friend, "T-first")
        clock.advance(days=2)
        assert (await _refund(client, auth, first)).status_code == 200
        clock.advance(days=6)
        assert (await services.upkeep.sweep()).bonuses_given == 0  # the first purchase was taken back
        await _sell(client, auth, friend, "T-second")
        clock.advance(days=6, hours=23)
        assert (await services.upkeep.sweep()).bonuses_given == 0  # not yet a week
        clock.advance(hours=1)
        assert (await services.upkeep.sweep()).bonuses_given == 1
    async with db.read() as uow:
        paid = await uow.session.execute(text("SELECT count(*) FROM ledger_entry WHERE reason = 'referral'"))
        assert paid.scalar() == 2  # the friend and who invited them, once


async def test_a_refund_takes_back_the_level_its_sale_reached_and_the_gift_to_the_cause(
    services: Services, db: Database, api_url: str
) -> None:
    _, code, auth = await _shop(services, points=True)
    await services.tiers.add(OWNER, "Gold; 2")
    await services.causes.start(OWNER, "Rumah Kucing; 5.000.000; 31-12-2026")
    await services.causes.change(OWNER, "match", "10.000 per 100.000")
    async with httpx.AsyncClient(base_url=api_url) as client:
        await _sell(client, auth, code, "T-one", 100_000)
        second = await _sell(client, auth, code, "T-two", 100_000)
        assert (await client.get(f"/v1/customers/{code}", headers=auth)).json()["tier"] == "Gold"
        refunded = await _refund(client, auth, second)
        assert refunded.status_code == 200, refunded.text
        assert refunded.json()["level"] == "" and refunded.json()["cause_withdrawn"] == 10_000
        assert (await client.get(f"/v1/customers/{code}", headers=auth)).json()["tier"] is None
    assert await _nets(db, second["id"]) == {"stamp": 0, "point": 0, "cause": 0}
    assert await _card(db, code) == (1, 10)


async def test_a_refund_short_of_stamps_the_card_no_longer_holds_says_so_and_the_books_add_up(
    services: Services, db: Database, api_url: str
) -> None:
    """Found by the model-based test (tests/model): the customer gave the sale's stamp to a cause,
    then the sale was refunded; the refund took nothing and said nothing, and its stamp rows did
    not add up. Never below zero stays; what it could not take back is answered and kept."""
    _, code, auth = await _shop(services)
    await services.causes.start(OWNER, "Rumah Kucing; 5.000.000; 31-12-2026")
    await services.causes.change(OWNER, "stamp_value", "2.000")
    async with httpx.AsyncClient(base_url=api_url) as client:
        sale = await _sell(client, auth, code, "T-given")
        offer = await services.causes.offer(CUSTOMER, "stamp", "1")
        await services.causes.give(CUSTOMER, offer.token)
        refunded = await _refund(client, auth, sale)
        assert refunded.status_code == 200, refunded.text
        assert (refunded.json()["stamps_removed"], refunded.json()["stamps_short"]) == (0, 1)
    assert await _nets(db, sale["id"]) == {"stamp": 1}
    assert await effects_left_by_refunds(db, [str(sale["id"])]) == []
    assert await balances_off_their_ledger(db) == []


async def test_a_till_retrying_after_the_customer_was_forgotten_gets_an_answer_not_an_empty_replay(
    services: Services, db: Database, api_url: str
) -> None:
    """Found by the model-based test: /forget blanked the stored answers for the till's retries,
    so a retried refund was replayed as 200 with an empty body. Now those answers go with the
    person: the retry is answered afresh."""
    _, code, auth = await _shop(services)
    async with httpx.AsyncClient(base_url=api_url) as client:
        sale = await _sell(client, auth, code, "T-forgotten")
        assert (await _refund(client, auth, sale)).status_code == 200
        await services.customers.forget(CUSTOMER)
        again = await _refund(client, auth, sale)
        assert again.status_code == 404 and again.json()["code"] == "not_found"
        resold = await client.post(
            "/v1/purchases",
            json={"customer": {"code": code}, "stamps": 1, "external_id": "T-forgotten"},
            headers={**auth, "Idempotency-Key": "T-forgotten"},
        )
        assert resold.status_code in (404, 409) and resold.json()["code"] in (
            "not_found",
            "already_credited",
        )
