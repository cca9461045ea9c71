"""Handlers in process: the counter conversation, every reply checked against Telegram's rules."""

from __future__ import annotations

from kartu.loyalty.program import ProgramRules
from kartu.sandbox import TelegramUser
from tests.e2e.world import World, code_in


async def test_a_stamp_and_a_reward_through_the_dispatcher(
    world: World, owner: TelegramUser, barista: TelegramUser
) -> None:
    payload = await world.create_shop(rules=ProgramRules(stamps_required=2, daily_stamp_cap=0))
    await world.hire(owner, barista)
    customer = world.user(300, "Ayu", "en")
    code = await world.join(customer, payload)
    prompt = await barista.ask(code)
    assert "Ayu has 0/2 stamps." in prompt.body
    assert (await barista.press(prompt, "Confirm")).text == "Confirmed."
    assert prompt.body.startswith("✅ Confirmed: Ayu got 1 stamp")
    assert (await customer.next_message()).body.startswith("✅ +1 stamp!")
    await barista.press(await barista.ask(code), "Confirm")
    full, reward = await customer.next_message(), await customer.next_message()
    assert "your card is full" in full.body and full.photo is not None
    reward_code = code_in(reward.body)
    redeem = await barista.ask(reward_code)
    await barista.press(redeem, "Confirm")
    assert (await customer.next_message()).body.startswith("🎁 Enjoy your <b>1 free drink</b>")
    assert (await barista.ask(reward_code)).body == "This reward was already redeemed."


async def test_forged_and_foreign_buttons_change_nothing(
    world: World, owner: TelegramUser, barista: TelegramUser
) -> None:
    payload = await world.create_shop(rules=ProgramRules(daily_stamp_cap=0))
    await world.hire(owner, barista)
    customer = world.user(300, "Ayu", "en")
    code = await world.join(customer, payload)
    prompt = await barista.ask(code)
    token = prompt.buttons()[0]["callback_data"].split(":")[-1]
    assert (
        await customer.press(prompt, data=f"buy:ok:{token}")
    ).text == "Only staff of this shop can do that."
    assert (await barista.press(prompt, data=f"buy:maybe:{token}")).text == "This button is no longer valid."
    assert (await owner.press(prompt, data=f"buy:ok:{token}")).text == world.says(
        "id", "This button is no longer valid."
    )
    assert (await barista.press(prompt, "Cancel")).text == "Cancelled."
    assert "0/10" in (await customer.ask("/card")).body


async def test_the_owners_screens_in_indonesian(world: World, owner: TelegramUser) -> None:
    await world.create_shop()
    help_text = await owner.ask("/help")
    assert help_text.keyboard_labels()[:2] == ["🔗 Link & QR", "👥 Tim"]
    program = await owner.ask("⚙️ Program")
    await owner.press(program, "🎯 Stempel")
    sent = await owner.send("12")
    assert program.body.startswith("✅ Tersimpan: Stempel untuk satu hadiah sekarang <b>12</b>.")
    assert owner.reaction_to(sent) == ["👍"]


async def test_a_card_picture_is_uploaded_once_then_sent_by_file_id(
    world: World, owner: TelegramUser, barista: TelegramUser
) -> None:
    payload = await world.create_shop(rules=ProgramRules(daily_stamp_cap=0))
    await world.hire(owner, barista)
    customers = [world.user(300 + n, f"C{n}", "en") for n in range(3)]
    for customer in customers:
        code = await world.join(customer, payload)
        await barista.press(await barista.ask(code), "Confirm")
    cards = [await customer.next_message() for customer in customers]
    assert cards[0].photo == cards[1].photo == cards[2].photo and cards[0].photo.startswith(b"\x89PNG")
    sent = [params["photo"] for method, params in world.emulator.state.calls if method == "sendphoto"]
    assert str(sent[0]).startswith("attach://")  # uploaded once...
    assert sent[1] == sent[2] == cards[0].file_id  # ...then Telegram's file_id
