"""The API as an attacker and a careless integrator meet it, over real HTTP: bodies capped however
they are framed (a chunked 50 MB body answered 413 without being read, memory flat), numbers and
times out of range answered 422 naming the field (never a 500), every error as RFC 9457 problem
details (the framework's own too), and a code of another shop looked for with the same work as an
unknown one."""

from __future__ import annotations

import asyncio
import logging
import tracemalloc
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import event

from kartu.services.container import Services
from kartu.services.customers import TelegramProfile
from kartu.storage.database import Database
from tests.api.keys import fresh

OWNER, OTHER_OWNER, CUSTOMER, OTHER_CUSTOMER = 100, 110, 3000, 3100
PROBLEM_FIELDS = {"type", "title", "status", "detail", "code", "field"}


async def _shop(services: Services) -> tuple[str, dict[str, str]]:
    created = await services.merchants.create_merchant("Kopi Senja", OWNER)
    joined = await services.customers.start(TelegramProfile(CUSTOMER, "Ayu"), f"m_{created.slug}")
    assert joined.joined is not None
    key, _ = await services.api.create_key(OWNER, "earn,redeem,read,webhooks", "Till 1")
    return joined.joined.card.personal_code, {"Authorization": f"Bearer {key}"}


def _sale(code: str, external_id: str = "T1-0001") -> dict[str, object]:
    return {"customer": {"code": code}, "external_id": external_id}


def _is_problem(answer: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body = answer.json()
    assert set(body) == PROBLEM_FIELDS and body["status"] == status and body["code"] == code
    assert body["type"] == f"/problems/{code}" and body["title"] and body["detail"]
    return dict(body)


async def _chunked(url: str, headers: dict[str, str], total: int, chunk: int = 64 * 1024) -> bytes:
    """POST a chunked JSON body of ``total`` bytes over a raw socket, reading the answer as it
    comes; stops sending once the server answered (or closed). Returns what the server said."""
    where = urlsplit(url)
    reader, writer = await asyncio.open_connection(where.hostname, where.port)
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    writer.write(
        f"POST /v1/purchases HTTP/1.1\r\nHost: {where.netloc}\r\nContent-Type: application/json\r\n"
        f"Transfer-Encoding: chunked\r\n{head}\r\n".encode()
    )
    answer = asyncio.create_task(reader.read(65536))
    piece = b"%x\r\n" % chunk + b"[" + b" " * (chunk - 1) + b"\r\n"
    sent = 0
    try:
        while sent < total and not answer.done():
            writer.write(piece)
            await writer.drain()
            sent += chunk
        if not answer.done():
            writer.write(b"0\r\n\r\n")
            await writer.drain()
    except (ConnectionError, OSError):
        pass  # the server answered and closed: the rest is not read
    said = await asyncio.wait_for(answer, 10)
    writer.close()
    return said


async def test_a_chunked_body_over_the_cap_is_refused_unread_and_memory_stays_flat(
    services: Services, db: Database, api_url: str
) -> None:
    code, auth = await _shop(services)
    headers = {**fresh(auth)}
    said = await _chunked(api_url, headers, 5 * 1024 * 1024)
    assert said.startswith(b"HTTP/1.1 413 ") and b"application/problem+json" in said
    assert b'"code":"too_large"' in said and b"connection: close" in said.lower()
    # A stream of oversized bodies (50 MB offered in all) holds no more than a few chunks at once.
    tracemalloc.start()
    try:
        for _ in range(10):
            assert (await _chunked(api_url, fresh(auth), 5 * 1024 * 1024)).startswith(b"HTTP/1.1 413 ")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * 1024 * 1024, f"{peak / 1e6:.1f} MB held while refusing 50 MB"
    async with httpx.AsyncClient(base_url=api_url) as client:
        card = (await client.get(f"/v1/customers/{code}", headers=auth)).json()
        assert card["stamps"] == 0  # nothing was credited

        # A body under the cap is taken however it is framed: a chunked sale is credited.
        async def pieces():
            yield b'{"customer": {"code": "' + code.encode() + b'"},'
            yield b' "external_id": "T1-chunked"}'

        sale = await client.post(
            "/v1/purchases", content=pieces(), headers={**fresh(auth), "Content-Type": "application/json"}
        )
        assert sale.status_code == 201, sale.text


async def test_numbers_and_times_out_of_range_are_422_naming_the_field(
    services: Services, api_url: str
) -> None:
    code, auth = await _shop(services)
    huge_cursor = "c" + "9" * 40
    async with httpx.AsyncClient(base_url=api_url) as client:
        cases = [
            (client.post("/v1/purchases", json={**_sale(code), "customer": {"telegram_id": 2**63}}, headers=fresh(auth)), "customer.telegram_id"),
            (client.post("/v1/purchases", json={**_sale(code), "amount": 2**64}, headers=fresh(auth)), "amount"),
            (client.post("/v1/purchases", json={**_sale(code), "amount": "100000"}, headers=fresh(auth)), "amount"),
            (client.post("/v1/purchases", json={**_sale(code), "amount": True}, headers=fresh(auth)), "amount"),
            (client.post("/v1/purchases", json={**_sale(code), "stamps": 1.5}, headers=fresh(auth)), "stamps"),
            (client.post("/v1/purchases", json={**_sale(code), "occurred_at": "2026-12-07T10:00:00"}, headers=fresh(auth)), "occurred_at"),
            (client.post("/v1/purchases", json={**_sale(code), "occurred_at": "0001-01-01T00:00:00+07:00"}, headers=fresh(auth)), "occurred_at"),
            (client.post("/v1/purchases", json={**_sale(code), "occurred_at": 1765000000}, headers=fresh(auth)), "occurred_at"),
            (client.delete(f"/v1/webhooks/{2**63}", headers=auth), "endpoint_id"),
            (client.get("/v1/ledger", params={"cursor": huge_cursor}, headers=auth), "cursor"),
            (client.get("/v1/ledger", params={"since": "2026-11-01T00:00:00"}, headers=auth), "since"),
            (client.get("/v1/ledger", params={"since": "0.5"}, headers=auth), "since"),
            (client.get("/v1/members", params={"since": "1765000000"}, headers=auth), "since"),
        ]  # fmt: skip
        for request, field in cases:
            body = _is_problem(
                await request, 422, "invalid_cursor" if field == "cursor" else "invalid_request"
            )
            assert body["field"] == field, body
        card = (await client.get(f"/v1/customers/{code}", headers=auth)).json()
        assert card["stamps"] == 0  # none of them credited anything


async def test_every_error_is_a_problem_the_framework_s_own_too(
    services: Services, api_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    code, auth = await _shop(services)
    async with httpx.AsyncClient(base_url=api_url) as client:
        unknown = _is_problem(await client.get("/v1/nothing", headers=auth), 404, "not_found")
        assert unknown["field"] == "path"
        wrong = await client.put("/v1/webhooks", headers=auth)
        _is_problem(wrong, 405, "method_not_allowed")
        assert wrong.headers["allow"] == "GET, POST"  # every method of the path, not one route's
        not_utf8 = await client.post(
            "/v1/purchases",
            content=b'{"external_id": "\xff\xfe"}',
            headers={**fresh(auth), "Content-Type": "application/json"},
        )
        assert (
            not_utf8.status_code in (400, 422)
            and not_utf8.headers["content-type"] == "application/problem+json"
        )
        assert not_utf8.json()["field"] == "body"
        broken = await client.post(
            "/v1/purchases",
            content=b'{"customer": ',
            headers={**fresh(auth), "Content-Type": "application/json"},
        )
        assert _is_problem(broken, 422, "invalid_json")["field"] == "body"
        unauthorized = _is_problem(await client.get(f"/v1/customers/{code}"), 401, "unauthorized")
        assert unauthorized["field"] is None
        # A key that may not do something learns that before anything about its request.
        reader, _ = await services.api.create_key(OWNER, "read")
        forbidden = await client.post("/v1/webhooks", json={}, headers={"Authorization": f"Bearer {reader}"})
        _is_problem(forbidden, 403, "forbidden")
        # A problem's type is a page that explains it.
        page = await client.get("/problems/invalid_cursor")
        assert page.status_code == 200 and "next_cursor" in page.text
        assert (await client.get("/problems/<script>")).status_code == 404
        # Every answer names its request; a sane id of the caller's is kept.
        mine = await client.get(f"/v1/customers/{code}", headers={**auth, "X-Request-Id": "till-1:42"})
        assert mine.headers["x-request-id"] == "till-1:42"
        odd = await client.get(f"/v1/customers/{code}", headers={**auth, "X-Request-Id": "a b<c>"})
        assert odd.headers["x-request-id"] != "a b<c>" and len(odd.headers["x-request-id"]) == 16

        # A failure of Kartu's own is a 500 problem; its one log line names the request.
        async def broken_lookup(*_: object) -> dict[str, object]:
            raise RuntimeError("the database went away")

        services.api.customer = broken_lookup  # type: ignore[method-assign]
        with caplog.at_level(logging.ERROR, logger="kartu.api"):
            failed = await client.get(f"/v1/customers/{code}", headers={**auth, "X-Request-Id": "till-1:43"})
        body = _is_problem(failed, 500, "internal")
        assert "till-1:43" in str(body["detail"]) and "database" not in failed.text
        assert [record.getMessage().split(" ")[1] for record in caplog.records] == ["till-1:43"]


async def test_writes_take_an_idempotency_key_and_a_retry_gets_the_first_answer(
    services: Services, api_url: str
) -> None:
    code, auth = await _shop(services)
    await services.merchants.change_program(OWNER, "daily_stamp_cap", "0")
    async with httpx.AsyncClient(base_url=api_url) as client:
        sale = {**_sale(code, "T1-ten"), "stamps": 10}
        (reward,) = (await client.post("/v1/purchases", json=sale, headers=fresh(auth))).json()[
            "rewards_issued"
        ]
        without = await client.post(f"/v1/rewards/{reward}/redeem", headers=auth)
        assert _is_problem(without, 422, "invalid_request")["field"] == "Idempotency-Key"
        once = {**auth, "Idempotency-Key": "redeem-1"}
        used = await client.post(f"/v1/rewards/{reward}/redeem", headers=once)
        retried = await client.post(f"/v1/rewards/{reward}/redeem", headers=once)
        assert used.status_code == retried.status_code == 200 and retried.text == used.text
        assert retried.headers["idempotent-replayed"] == "true"
        another = await client.post(f"/v1/rewards/{reward}/redeem", headers=fresh(auth))
        _is_problem(another, 409, "already_redeemed")
        hook = await client.post("/v1/webhooks", json={"url": "https://pos.example.com/k"}, headers=auth)
        assert _is_problem(hook, 422, "invalid_request")["field"] == "Idempotency-Key"


@pytest.mark.parametrize(
    "url",
    [
        "https://2130706433/k",
        "https://0x7f000001/k",
        "https://127.1/k",
        "https://0177.0.0.1/k",
        "https://localhost./k",
        "https://[64:ff9b::7f00:1]/k",
        "https://[::ffff:10.0.0.1]/k",
        "https://intranet/k",
    ],
)
async def test_a_webhook_to_a_private_host_in_any_spelling_is_refused_when_added(
    services: Services, api_url: str, url: str
) -> None:
    services.webhooks.settings.webhooks_allow_private = False  # as in production
    _, auth = await _shop(services)
    async with httpx.AsyncClient(base_url=api_url) as client:
        refused = await client.post("/v1/webhooks", json={"url": url}, headers=fresh(auth))
        assert _is_problem(refused, 422, "invalid_url")["field"] == "url"
        assert (await client.get("/v1/webhooks", headers=auth)).json()["data"] == []


async def test_another_shop_s_code_is_looked_for_with_the_same_work_as_an_unknown_one(
    services: Services, db: Database, api_url: str
) -> None:
    _, auth = await _shop(services)
    other = await services.merchants.create_merchant("Toko Emas", OTHER_OWNER)
    elsewhere = await services.customers.start(TelegramProfile(OTHER_CUSTOMER, "Budi"), f"m_{other.slug}")
    assert elsewhere.joined is not None
    theirs = elsewhere.joined.card.personal_code
    statements: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", seen)
    try:
        async with httpx.AsyncClient(base_url=api_url) as client:
            await client.get("/v1/webhooks", headers=auth)  # the key's once-a-minute "last used" write
            answers, work = [], []
            for code in ("ZZZZ-ZZZZ", theirs):
                statements.clear()
                answers.append(await client.get(f"/v1/customers/{code}", headers=auth))
                work.append(list(statements))
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", seen)
    assert answers[0].status_code == answers[1].status_code == 404
    assert answers[0].json() == answers[1].json()
    assert work[0] == work[1]  # the same statements, whether the code exists elsewhere or nowhere
