"""A receipt code through the bot: the till printed a link for a customer who was not there; she
opens it in Telegram, joins the shop with its welcome and finds the sale on her card (in
Indonesian); the next person to open it is told, politely, that it was used."""

from __future__ import annotations

from kartu.sandbox import TelegramUser
from tests.e2e.world import OWNER_ID, World


async def test_a_new_customer_opens_a_printed_receipt_and_finds_it_on_her_card(
    world: World, customer: TelegramUser
) -> None:
    await world.create_shop()
    services = world.app.services
    services.api.settings.bot_username = "kopi_senja_bot"
    key, _ = await services.api.create_key(OWNER_ID, "earn")
    till = await services.api.authenticate(key)
    async with world.app.db.write() as uow:
        printed = await services.api.create_receipt(
            uow, till, amount=None, stamps=2, external_id="R-1", occurred_at=None, expires_in=None
        )
    payload = str(printed["link"]).split("start=", 1)[1]

    welcome = await customer.ask(f"/start {payload}")
    assert (
        world.says(
            "id",
            "Welcome to <b>{shop}</b>, {first_name}! Your stamp card is ready.",
            shop="Kopi Senja",
            first_name="Ayu",
        )
        in welcome.body
    )
    assert (
        world.says("id", "🧾 Your receipt from <b>{shop}</b> is on your card.", shop="Kopi Senja")
        in welcome.body
    )
    card = await customer.next_message()  # the card, as after any sale: two stamps on it
    assert "+2 stempel" in card.body and "2/10" in card.body
    late = world.user(301, "Budi", "id")
    refused = await late.ask(f"/start {payload}")
    assert refused.body == world.says(
        "id", "This receipt was already used: its purchase is on someone's card."
    )
    guessed = await late.ask("/start rcpt_AAAAAAAAAAAAAAAAAAAAAA")
    assert guessed.body == world.says(
        "id", "That receipt link is not valid. Please scan the code on your receipt again."
    )
