"""The point-of-sale API over real HTTP (uvicorn on 127.0.0.1, httpx): keys and scopes, purchases
credited once per Idempotency-Key (fifty at once on SQLite and PostgreSQL), replays, a key of
another shop, the error shape, the OpenAPI document."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import text

from kartu.loyalty.clock import FrozenClock
from kartu.loyalty.tiers import Basis
from kartu.services.container import Services
from kartu.services.customers import TelegramProfile
from kartu.storage.database import Database
from tests.api.keys import fresh

OWNER, OTHER_OWNER, CUSTOMER = 100, 110, 3000


async def _shop(services: Services) -> tuple[str, str]:
    """Kopi Senja with a customer; a key of it (earn, read). Returns (customer code, key)."""
    created = await services.merchants.create_merchant("Kopi Senja", OWNER)
    joined = await services.customers.start(TelegramProfile(CUSTOMER, "Ayu"), f"m_{created.slug}")
    assert joined.joined is not None
    key, _ = await services.api.create_key(OWNER, "earn,read", "Till 1")
    return joined.joined.card.personal_code, key


def _sale(code: str, external_id: str = "T1-0001", stamps: int = 1) -> dict[str, object]:
    return {"customer": {"code": code}, "stamps": stamps, "external_id": external_id, "currency": "IDR"}


async def test_keys_scopes_and_the_error_shape(services: Services, api_url: str) -> None:
    code, key = await _shop(services)
    read_only, _ = await services.api.create_key(OWNER, "read")
    async with httpx.AsyncClient(base_url=api_url) as client:
        missing = await client.get(f"/v1/customers/{code}")
        assert missing.status_code == 401 and missing.json()["code"] == "unauthorized"
        wrong = await client.get(f"/v1/customers/{code}", headers={"Authorization": "Bearer kartu_nope"})
        assert wrong.status_code == 401
        forbidden = await client.post(
            "/v1/purchases",
            json=_sale(code),
            headers={"Authorization": f"Bearer {read_only}", "Idempotency-Key": "a"},
        )
        assert forbidden.status_code == 403 and forbidden.json()["code"] == "forbidden"
        no_key = await client.post(
            "/v1/purchases", json=_sale(code), headers={"Authorization": f"Bearer {key}"}
        )
        assert no_key.status_code == 422 and no_key.json()["field"] == "Idempotency-Key"
        bad = await client.post(
            "/v1/purchases",
            json={"customer": {"code": code}, "external_id": "x y"},
            headers={"Authorization": f"Bearer {key}", "Idempotency-Key": "b"},
        )
        assert bad.status_code == 422 and bad.json()["field"] == "external_id"
        huge = await client.post(
            "/v1/purchases",
            content=b"{" + b" " * 20_000 + b"}",
            headers={
                "Authorization": f"Bearer {key}",
                "Idempotency-Key": "c",
                "Content-Type": "application/json",
            },
        )
        assert huge.status_code == 413
        document = (await client.get("/openapi.json")).json()
        assert "/v1/purchases" in document["paths"] and "/v1/customers/{code}" in document["paths"]


async def test_a_purchase_is_credited_replayed_and_refused_when_changed(
    services: Services, api_url: str
) -> None:
    code, key = await _shop(services)
    headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": "sale-1"}
    async with httpx.AsyncClient(base_url=api_url) as client:
        first = await client.post("/v1/purchases", json=_sale(code, stamps=2), headers=headers)
        assert first.status_code == 201, first.text
        assert first.json()["stamps_added"] == 2 and first.json()["card"]["stamps"] == 2
        again = await client.post("/v1/purchases", json=_sale(code, stamps=2), headers=headers)
        assert (
            again.status_code == 201
            and again.text == first.text
            and again.headers["Idempotent-Replayed"] == "true"
        )
        changed = await client.post("/v1/purchases", json=_sale(code, stamps=3), headers=headers)
        assert changed.status_code == 422 and changed.json()["code"] == "idempotency_mismatch"
        twice = await client.post(
            "/v1/purchases", json=_sale(code, stamps=2), headers={**headers, "Idempotency-Key": "sale-1b"}
        )
        assert twice.status_code == 409 and twice.json()["field"] == "external_id"
        card = await client.get(f"/v1/customers/{code}", headers={"Authorization": f"Bearer {key}"})
        assert card.json()["stamps"] == 2 and card.json()["first_name"] == "Ayu"
        # A key of another shop: this shop's customers do not exist for it.
        await services.merchants.create_merchant("Toko Emas", OTHER_OWNER)
        other, _ = await services.api.create_key(OTHER_OWNER, "earn,read")
        hidden = await client.get(f"/v1/customers/{code}", headers={"Authorization": f"Bearer {other}"})
        assert hidden.status_code == 404 and hidden.json()["code"] == "not_found"


async def test_fifty_posts_with_one_key_credit_once(services: Services, db: Database, api_url: str) -> None:
    code, key = await _shop(services)
    headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": "burst"}
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as client:
        answers = await asyncio.gather(
            *(client.post("/v1/purchases", json=_sale(code, "T1-burst"), headers=headers) for _ in range(50))
        )
    assert {answer.status_code for answer in answers} == {201}
    assert len({answer.text for answer in answers}) == 1  # fifty identical responses
    async with db.read() as uow:
        rows = await uow.session.scalar(text("SELECT count(*) FROM ledger_entry WHERE reason = 'purchase'"))
    assert rows == 1


async def test_a_key_that_asks_too_fast_waits(services: Services, api_url: str) -> None:
    code, key = await _shop(services)
    async with httpx.AsyncClient(base_url=api_url) as client:
        answers = await asyncio.gather(
            *(
                client.get(f"/v1/customers/{code}", headers={"Authorization": f"Bearer {key}"})
                for _ in range(30)
            )
        )
    limited = [answer for answer in answers if answer.status_code == 429]
    assert limited and len(limited) <= 10  # twenty at once, then ten a second
    assert int(limited[0].headers["Retry-After"]) >= 1 and limited[0].json()["code"] == "rate_limited"


async def test_rewards_are_redeemed_once_and_members_and_ledger_page(
    services: Services, api_url: str
) -> None:
    code, key = await _shop(services)
    everything, _ = await services.api.create_key(OWNER, "earn,redeem,read")
    auth = {"Authorization": f"Bearer {everything}"}
    await services.merchants.change_program(OWNER, "daily_stamp_cap", "0")  # ten at once
    async with httpx.AsyncClient(base_url=api_url) as client:
        full = await client.post(
            "/v1/purchases", json=_sale(code, "T1-full", 10), headers={**auth, "Idempotency-Key": "full"}
        )
        (reward,) = full.json()["rewards_issued"]
        denied = await client.post(
            f"/v1/rewards/{reward}/redeem", headers=fresh({"Authorization": f"Bearer {key}"})
        )
        assert denied.status_code == 403  # this key may not redeem
        used = await client.post(f"/v1/rewards/{reward}/redeem", headers=fresh(auth))
        assert used.status_code == 200 and used.json()["customer"] == code
        again = await client.post(f"/v1/rewards/{reward}/redeem", headers=fresh(auth))
        assert again.status_code == 409 and again.json()["code"] == "already_redeemed"
        for number in range(3):
            await services.customers.start(
                TelegramProfile(CUSTOMER + 1 + number, f"C{number}"), "m_kopi-senja"
            )
        first = (await client.get("/v1/members", params={"limit": 2}, headers=auth)).json()
        second = (
            await client.get("/v1/members", params={"limit": 2, "cursor": first["next_cursor"]}, headers=auth)
        ).json()
        third = (
            await client.get(
                "/v1/members", params={"limit": 2, "cursor": second["next_cursor"]}, headers=auth
            )
        ).json()
        assert (len(first["data"]), first["has_more"], len(second["data"]), second["has_more"]) == (
            2,
            True,
            2,
            False,
        )
        # The last page still says where to go on from: the same place, until someone joins.
        assert third == {"data": [], "next_cursor": second["next_cursor"], "has_more": False}
        names = [member["first_name"] for member in first["data"] + second["data"]]
        assert names == ["Ayu", "C0", "C1", "C2"]
        ledger = (await client.get("/v1/ledger", params={"limit": 200}, headers=auth)).json()
        assert [row["reason"] for row in ledger["data"]][:2] == ["purchase", "reward_issued"]
        assert not ledger["has_more"]
        # The feed is followed from where it stopped: the next sale's rows, and nothing seen before.
        sold = await client.post("/v1/purchases", json=_sale(code, "T1-follow"), headers=fresh(auth))
        assert sold.status_code == 201, sold.text
        resumed = (
            await client.get("/v1/ledger", params={"cursor": ledger["next_cursor"]}, headers=auth)
        ).json()
        assert [row["reason"] for row in resumed["data"]] == ["purchase"] and not resumed["has_more"]
        forged = await client.get("/v1/ledger", params={"cursor": "bm9wZQ"}, headers=auth)
        assert forged.status_code == 422 and forged.json()["field"] == "cursor"


async def _balances(db: Database, code: str) -> tuple[tuple[int, int], dict[str, int]]:
    """The card's (stamps, points) and the ledger's sum per asset for it."""
    async with db.read() as uow:
        person = await uow.people.by_code(code)
        assert person is not None
        card = (
            await uow.session.execute(
                text("SELECT stamps, points FROM card WHERE person_id = :p"), {"p": person.id}
            )
        ).one()
        sums = dict(
            (
                await uow.session.execute(
                    text("SELECT asset, sum(delta) FROM ledger_entry WHERE person_id = :p GROUP BY asset"),
                    {"p": person.id},
                )
            ).all()
        )
    return (card[0], card[1]), {asset: int(total) for asset, total in sums.items()}


async def _stamps_and_points_shop(services: Services) -> tuple[str, dict[str, str]]:
    """Kopi Senja running stamps and points, no daily cap; a customer's code, a key's header."""
    code, _ = await _shop(services)
    await services.merchants.choose_kinds(OWNER, True, True)
    await services.merchants.change_program(OWNER, "daily_stamp_cap", "0")
    key, _ = await services.api.create_key(OWNER, "earn,redeem,read")
    return code, {"Authorization": f"Bearer {key}"}


async def test_a_refund_takes_back_stamps_points_and_rewards_once(
    services: Services, db: Database, api_url: str
) -> None:
    code, auth = await _stamps_and_points_shop(services)
    async with httpx.AsyncClient(base_url=api_url) as client:
        kept = await client.post(
            "/v1/purchases",
            json={**_sale(code, "T1-kept", 3), "amount": 50_000},
            headers={**auth, "Idempotency-Key": "kept"},
        )
        sale = await client.post(
            "/v1/purchases",
            json={**_sale(code, "T1-0009", 8), "amount": 250_000},
            headers={**auth, "Idempotency-Key": "sale"},
        )
        assert sale.status_code == 201, sale.text
        body = sale.json()
        (reward,) = body["rewards_issued"]
        assert body["points_added"] > 0 and body["card"]["stamps"] == 1  # 3 + 8 filled a card of 10
        before, _ = await _balances(db, code)

        refunded = await client.post(
            f"/v1/purchases/{body['id']}/refund", headers={**auth, "Idempotency-Key": "refund-1"}
        )
        assert refunded.status_code == 200, refunded.text
        answer = refunded.json()
        assert answer["rewards_voided"] == [reward] and answer["points_removed"] == body["points_added"]
        assert answer["card"] == {"stamps": 3, "points": before[1] - body["points_added"]}
        replayed = await client.post(
            f"/v1/purchases/{body['id']}/refund", headers={**auth, "Idempotency-Key": "refund-1"}
        )
        assert replayed.text == refunded.text and replayed.headers["Idempotent-Replayed"] == "true"
        again = await client.post(
            f"/v1/purchases/{body['id']}/refund", headers={**auth, "Idempotency-Key": "refund-2"}
        )
        assert again.status_code == 409 and again.json()["code"] == "already_refunded"
        void = await client.post(f"/v1/rewards/{reward}/redeem", headers=fresh(auth))
        assert void.status_code == 422  # the voided reward cannot be used
        card, ledger = await _balances(db, code)
        assert card == (3, kept.json()["card"]["points"])
        async with db.read() as uow:  # levels count the kept purchase only: one visit, its spend
            person = await uow.people.by_code(code)
            merchant_id = (await uow.merchants.by_slug("kopi-senja")).id  # type: ignore[union-attr]
            since = datetime(2000, 1, 1, tzinfo=UTC)
            visits = await uow.tiers.measure(merchant_id, person.id, Basis.VISITS, since)  # type: ignore[union-attr]
            spend = await uow.tiers.measure(merchant_id, person.id, Basis.SPEND, since)  # type: ignore[union-attr]
        assert (visits, spend) == (1, 50_000)
        assert (ledger["stamp"], ledger["point"], ledger["reward"]) == (3, card[1], 0)  # rows, not deletes
        # Another shop's key knows nothing of this purchase.
        await services.merchants.create_merchant("Toko Emas", OTHER_OWNER)
        other, _ = await services.api.create_key(OTHER_OWNER, "earn")
        hidden = await client.post(
            f"/v1/purchases/{kept.json()['id']}/refund",
            headers={"Authorization": f"Bearer {other}", "Idempotency-Key": "x"},
        )
        assert hidden.status_code == 404
    async with db.read() as uow:
        news = await uow.session.scalar(
            text("SELECT params FROM outbox_message WHERE kind = 'purchase_refunded'")
        )
    assert news is not None and '"rewards": 1' in news


async def test_a_refund_is_refused_once_its_reward_is_used_or_its_points_spent(
    services: Services, db: Database, api_url: str
) -> None:
    code, auth = await _stamps_and_points_shop(services)
    async with httpx.AsyncClient(base_url=api_url) as client:
        full = (
            await client.post(
                "/v1/purchases",
                json={**_sale(code, "T2-full", 10), "amount": 100_000},
                headers={**auth, "Idempotency-Key": "full"},
            )
        ).json()
        await client.post(f"/v1/rewards/{full['rewards_issued'][0]}/redeem", headers=fresh(auth))
        used = await client.post(
            f"/v1/purchases/{full['id']}/refund", headers={**auth, "Idempotency-Key": "r1"}
        )
        assert used.status_code == 409 and used.json()["code"] == "reward_used"
        points = (
            await client.post(
                "/v1/purchases",
                json={**_sale(code, "T2-points", 1), "amount": 100_000},
                headers={**auth, "Idempotency-Key": "points"},
            )
        ).json()
        held = points["card"]["points"]
        await services.points.adjust(OWNER, code, f"-{held}", "spent at the counter", 1)
        spent = await client.post(
            f"/v1/purchases/{points['id']}/refund", headers={**auth, "Idempotency-Key": "r2"}
        )
        assert spent.status_code == 409 and spent.json()["code"] == "points_spent"
    card, ledger = await _balances(db, code)
    assert card == (1, 0) and (ledger["stamp"], ledger["point"]) == card  # nothing changed


async def test_a_refund_after_the_points_lapsed_takes_only_the_stamps(
    services: Services, db: Database, clock: FrozenClock, api_url: str
) -> None:
    code, auth = await _stamps_and_points_shop(services)
    async with httpx.AsyncClient(base_url=api_url) as client:
        sale = (
            await client.post(
                "/v1/purchases",
                json={**_sale(code, "T3-old", 1), "amount": 200_000},
                headers={**auth, "Idempotency-Key": "old"},
            )
        ).json()
        assert sale["points_added"] > 0
        clock.advance(days=400)  # past the points' expiry (12 months)
        await services.upkeep.sweep()
        await client.post(
            "/v1/purchases",
            json={**_sale(code, "T3-new", 1), "amount": 100_000},
            headers={**auth, "Idempotency-Key": "new"},
        )
        held, _ = await _balances(db, code)
        refunded = await client.post(
            f"/v1/purchases/{sale['id']}/refund", headers={**auth, "Idempotency-Key": "r"}
        )
        assert refunded.status_code == 200, refunded.text
        assert refunded.json()["points_removed"] == 0  # they lapsed: the newer points stay
        assert refunded.json()["card"]["points"] == held[1]
    card, ledger = await _balances(db, code)
    assert (ledger["stamp"], ledger["point"]) == card


async def test_a_sale_rung_up_long_ago_or_in_the_future_is_refused(
    services: Services, clock: FrozenClock, api_url: str
) -> None:
    code, key = await _shop(services)
    auth = {"Authorization": f"Bearer {key}"}
    now = clock.now()
    async with httpx.AsyncClient(base_url=api_url) as client:
        for number, when in enumerate(
            (now - timedelta(days=8), now + timedelta(hours=1), now.replace(tzinfo=None))
        ):
            refused = await client.post(
                "/v1/purchases",
                json={**_sale(code, f"T4-{number}"), "occurred_at": when.isoformat()},
                headers={**auth, "Idempotency-Key": f"t4-{number}"},
            )
            assert refused.status_code == 422 and refused.json()["field"] == "occurred_at"
        offline = now - timedelta(days=2)
        credited = await client.post(
            "/v1/purchases",
            json={**_sale(code, "T4-ok"), "occurred_at": offline.isoformat()},
            headers={**auth, "Idempotency-Key": "t4-ok"},
        )
        assert credited.status_code == 201 and credited.json()["occurred_at"] == offline.isoformat()


async def test_a_till_sale_is_not_counted_as_the_owners_stamp(
    services: Services, db: Database, api_url: str
) -> None:
    code, key = await _shop(services)
    async with httpx.AsyncClient(base_url=api_url) as client:
        posted = await client.post(
            "/v1/purchases",
            json=_sale(code),
            headers={"Authorization": f"Bearer {key}", "Idempotency-Key": "s"},
        )
    assert posted.status_code == 201
    async with db.read() as uow:
        active = (await uow.session.execute(text("SELECT last_active_at FROM staff_member"))).scalars().all()
        actor = await uow.session.scalar(
            text("SELECT actor_person_id FROM ledger_entry WHERE reason = 'purchase'")
        )
    assert active == [None] and actor is not None  # the key's maker stands behind it in the ledger


async def test_racing_redeems_at_the_till_use_a_reward_once_and_refuse_the_rest_politely(
    services: Services, db: Database, api_url: str
) -> None:
    """Ten tills redeem one reward at the same moment: one 200, nine 409 already_redeemed, never a
    500 (the redeem's UPDATE … WHERE redeemed_at IS NULL decides, not the ledger's unique key)."""
    code, auth = await _stamps_and_points_shop(services)
    async with httpx.AsyncClient(base_url=api_url) as client:
        full = (
            await client.post(
                "/v1/purchases",
                json={**_sale(code, "T-race", 10), "amount": 10_000},
                headers={**auth, "Idempotency-Key": "race"},
            )
        ).json()
        (reward,) = full["rewards_issued"]
        answers = await asyncio.gather(
            *(client.post(f"/v1/rewards/{reward}/redeem", headers=fresh(auth)) for _ in range(10))
        )
    assert sorted(answer.status_code for answer in answers) == [200] + [409] * 9, [a.text for a in answers]
    assert all(a.json()["code"] == "already_redeemed" for a in answers if a.status_code == 409)
    _, ledger = await _balances(db, code)
    assert ledger["reward"] == 0  # issued once, used once


async def test_a_sale_names_its_outlet_or_its_key_does(
    services: Services, api_url: str, db: Database
) -> None:
    """A business with two outlets: a sale names its outlet by code (listed by GET /v1/outlets), a
    key of one outlet credits its sales there and no other; every ledger row says where."""
    code, key = await _shop(services)
    await services.merchants.add_outlet("kopi-senja", "Plaza Senayan")
    plaza_key, _ = await services.api.create_key_for(
        "kopi-senja", "earn,read", "Plaza till", "kopi-senja-plaza-senayan"
    )

    async def sell(with_key: str, external_id: str, outlet: str | None = None) -> httpx.Response:
        body = {**_sale(code, external_id), **({"outlet": outlet} if outlet else {})}
        headers = {"Authorization": f"Bearer {with_key}", "Idempotency-Key": external_id}
        return await client.post("/v1/purchases", json=body, headers=headers)

    async with httpx.AsyncClient(base_url=api_url) as client:
        listed = (await client.get("/v1/outlets", headers={"Authorization": f"Bearer {plaza_key}"})).json()
        assert [(o["code"], o["name"], o["key_outlet"]) for o in listed["data"]] == [
            ("kopi-senja", "Kopi Senja", False),
            ("kopi-senja-plaza-senayan", "Plaza Senayan", True),
        ]
        unnamed = await sell(key, "T-1")
        assert unnamed.status_code == 201 and unnamed.json()["outlet"] is None  # several outlets: no guess
        named = await sell(key, "T-2", "kopi-senja-plaza-senayan")
        assert named.status_code == 201 and named.json()["outlet"] == "kopi-senja-plaza-senayan"
        unknown = await sell(key, "T-3", "mars")
        assert unknown.status_code == 422 and unknown.json()["code"] == "unknown_outlet"
        by_key = await sell(plaza_key, "T-4")
        assert by_key.status_code == 201 and by_key.json()["outlet"] == "kopi-senja-plaza-senayan"
        other = await sell(plaza_key, "T-5", "kopi-senja")
        assert other.status_code == 403 and other.json()["code"] == "other_outlet"
        refund = await client.post(
            f"/v1/purchases/{named.json()['id']}/refund",
            headers={"Authorization": f"Bearer {key}", "Idempotency-Key": "R-2"},
        )
        assert refund.status_code == 200 and refund.json()["outlet"] == "kopi-senja-plaza-senayan"
    async with db.engine.connect() as connection:
        rows = (
            await connection.execute(
                text(
                    "SELECT l.origin, o.slug FROM ledger_entry l LEFT JOIN outlet o ON o.id = l.outlet_id "
                    "WHERE l.reason IN ('purchase', 'refund') ORDER BY l.id"
                )
            )
        ).all()
    assert [(origin.rsplit("-", 2)[-2:], slug) for origin, slug in rows] == [
        (["T", "1"], None),
        (["T", "2"], "kopi-senja-plaza-senayan"),
        (["T", "4"], "kopi-senja-plaza-senayan"),
        (["T", "2"], "kopi-senja-plaza-senayan"),  # its refund, where the purchase was
    ]
