"""The point of sale through the bot and the API: the owner makes a key in /apikeys (shown once),
the till posts a sale over HTTP, the customer's chat shows the new card, and the refund after it; a revoked key is refused."""

from __future__ import annotations

import asyncio
import re

import httpx
import uvicorn

from kartu.api.app import create_app
from kartu.presenters.callbacks import KeyAction, KeyStep
from kartu.sandbox import TelegramUser
from tests.e2e.world import World


async def test_a_till_credits_a_purchase_with_a_key_made_in_chat(world: World, owner: TelegramUser) -> None:
    join = await world.create_shop()
    customer = world.user(308, "Sinta", "en")
    code = await world.join(customer, join)
    screen = await owner.ask("/apikeys")
    await owner.press(screen, "➕")
    shown = await owner.next_message()
    key = re.search(r"<code>(kartu_[\w-]+)</code>", shown.body)
    assert key is not None

    server = uvicorn.Server(
        uvicorn.Config(
            create_app(world.app.services), host="127.0.0.1", port=0, log_level="warning", lifespan="off"
        )
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    url = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    try:
        async with httpx.AsyncClient(base_url=url) as client:
            headers = {"Authorization": f"Bearer {key.group(1)}", "Idempotency-Key": "till-1"}
            sale = {"customer": {"code": code}, "external_id": "TILL-1"}
            posted = await client.post("/v1/purchases", json=sale, headers=headers)
            assert posted.status_code == 201 and posted.json()["card"]["stamps"] == 1
            await world.deliver()  # the API runs without a bot here: the scheduler sends the news
            assert "+1 stamp" in (await customer.next_message()).body
            refund = await client.post(
                f"/v1/purchases/{posted.json()['id']}/refund", headers={**headers, "Idempotency-Key": "r-1"}
            )
            assert refund.status_code == 200 and refund.json()["card"]["stamps"] == 0
            await world.deliver()
            told = (await customer.next_message()).body
            assert "refunded a purchase: 1 stamp came off your card" in told and "0/10" in told
            owner_told = (await owner.next_message()).body
            assert "dibatalkan (refund)" in owner_told and "Ditarik kembali: 1 stempel." in owner_told
            keys = await owner.ask("/apikeys")
            await owner.press(keys, "🗑")
            refused = await client.post(
                "/v1/purchases", json=sale, headers={**headers, "Idempotency-Key": "till-2"}
            )
            assert refused.status_code == 401
    finally:
        server.should_exit = True
        await serving


async def test_an_owner_makes_a_key_for_one_outlets_till(world: World, owner: TelegramUser) -> None:
    """In a business with several outlets a new key asks whose till it is; the list names the
    outlet; a forged outlet (another business's) makes nothing."""
    await world.create_shop()
    await world.app.services.merchants.add_outlet("kopi-senja", "Plaza Senayan")
    screen = await owner.ask("/apikeys")
    await owner.press(screen, "➕")
    question = await owner.next_message()
    assert [b["text"] for b in question.buttons()] == [
        "🏢 Seluruh bisnis",
        "📍 Kopi Senja",
        "📍 Plaza Senayan",
    ]
    await owner.press(question, "Plaza Senayan")
    shown = await owner.next_message()
    assert re.search(r"<code>(kartu_[\w-]+)</code>", shown.body)
    assert await owner.until(lambda: "(📍 Plaza Senayan)" in question.body)
    async with world.app.db.read() as uow:
        (key,) = await uow.apikeys.of_merchant(1)
        plaza = (await uow.merchants.outlets(1))[1]
    assert key.outlet_id == plaza.id
    forged = await owner.press(question, data=KeyAction(action=KeyStep.CREATE_EARN, where="999999").pack())
    assert forged.text == world.says("id", "This button is no longer valid.")
    async with world.app.db.read() as uow:
        assert len(await uow.apikeys.of_merchant(1)) == 1
