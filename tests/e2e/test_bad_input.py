"""Bad input gets a polite, translated reply and changes nothing."""

from __future__ import annotations

from kartu.loyalty.program import ProgramRules
from kartu.sandbox import TelegramUser
from tests.e2e.world import World, code_in


async def _stamps(world: World, telegram_id: int) -> int:
    return (await world.app.services.customers.card(telegram_id)).stamps


async def test_unknown_and_malformed_codes(world: World, owner: TelegramUser, barista: TelegramUser) -> None:
    await world.create_shop()
    await world.hire(owner, barista)
    assert (await barista.ask("ZZZZ-ZZZZ")).body == "I don't know that code. Please check it and try again."
    assert (await barista.ask("/stamp")).body.startswith("Send it like this: /stamp CODE")
    assert (
        await barista.ask("/stamp hello")
    ).body == "I don't know that code. Please check it and try again."
    assert (await barista.ask("/redeem")).body == "Send it like this: /redeem REWARD-CODE"
    assert (
        await barista.ask("/redeem AAAAA-BBBBB")
    ).body == "I don't know that code. Please check it and try again."
    assert "Sorry, I did not understand" in (await barista.ask("good morning, everyone")).body


async def test_purchase_count_is_checked(
    world: World, owner: TelegramUser, barista: TelegramUser, customer: TelegramUser
) -> None:
    payload = await world.create_shop()
    await world.hire(owner, barista)
    code = await world.join(customer, payload)
    assert (
        await barista.ask(f"/stamp {code} 99")
    ).body == "The number of purchases must be between 1 and 20."
    prompt = await barista.ask(f"/stamp {code} 2")
    assert "Add 2 stamps for 2 purchases?" in prompt.body


async def test_oversized_empty_and_non_text_messages(world: World, customer: TelegramUser) -> None:
    await world.create_shop()
    await customer.ask("/start")
    assert (await customer.ask("x" * 10_000)).body == world.says(
        "id", "That message is too long for me. Please send something shorter."
    )
    assert (await customer.ask("/stamp " + "A" * 9_000)).body.startswith("Pesannya kepanjangan")
    assert "belum paham" in (await customer.ask("   ")).body
    await customer.send_sticker()
    assert "cuma bisa baca pesan teks" in (await customer.next_message()).body
    await customer.send_photo()
    assert "cuma bisa baca pesan teks" in (await customer.next_message()).body


async def test_wrong_roles_are_refused(
    world: World, owner: TelegramUser, barista: TelegramUser, customer: TelegramUser
) -> None:
    payload = await world.create_shop()
    await world.hire(owner, barista)
    code = await world.join(customer, payload)
    assert "Tunjukkan di kasir" in (await customer.ask(code)).body  # their own code: show it, do not send it
    assert (await customer.ask(f"/stamp {code}")).body == world.says(
        "id", "Only staff of this shop can do that."
    )
    assert (await customer.ask("/staff")).body == world.says("id", "Only the shop owner can do that.")
    assert (await barista.ask("/program")).body == "Only the shop owner can do that."
    assert (await barista.ask("/newmerchant Warung Baru")).body == "Only platform admins can do that."
    assert await _stamps(world, customer.id) == 0


async def test_staff_cannot_stamp_their_own_card(
    world: World, owner: TelegramUser, barista: TelegramUser
) -> None:
    payload = await world.create_shop()
    await world.hire(owner, barista)
    own_code = await world.join(barista, payload)
    assert "cannot confirm a purchase on your own card" in (await barista.ask(own_code)).body


async def test_forged_and_stale_buttons(
    world: World, owner: TelegramUser, barista: TelegramUser, customer: TelegramUser
) -> None:
    payload = await world.create_shop()
    await world.hire(owner, barista)
    code = await world.join(customer, payload)
    prompt = await barista.ask(code)

    # A customer replays the staff's button data; garbage and unknown ids are refused too.
    stolen = prompt.buttons()[0]["callback_data"]
    assert (await customer.press(prompt, data=stolen)).text == world.says(
        "id", "Only staff of this shop can do that."
    )
    assert (await barista.press(prompt, data="buy:ok:999999")).text == "This button is no longer valid."
    assert (await barista.press(prompt, data="buy:ok:" + "A" * 22)).text == "This button is no longer valid."
    assert (await barista.press(prompt, data="buy:ok:not-a-number")).text == "This button is no longer valid."
    assert (
        await barista.press(prompt, data="prog:stamps_required")
    ).text == "Only the shop owner can do that."
    assert (await barista.press(prompt, data="lang:xx")).text == "Sorry, that did not work. Please try again."

    # Staff of another shop (or a colleague) cannot decide a prompt they did not open.
    rival_owner = world.user(110, "Joko", "en")
    await world.create_shop("Barber Jaya", owner_id=rival_owner.id)
    assert (await rival_owner.press(prompt, data=stolen)).text == "This button is no longer valid."
    assert (await owner.press(prompt, data=stolen)).text == world.says(
        "id", "This button is no longer valid."
    )

    # Fifteen minutes later the prompt is stale.
    world.clock.advance(minutes=16)
    assert (await barista.press(prompt, "Confirm")).text.startswith("This request is no longer valid")
    assert await _stamps(world, customer.id) == 0


async def test_double_tap_credits_once(
    world: World, owner: TelegramUser, barista: TelegramUser, customer: TelegramUser
) -> None:
    payload = await world.create_shop()
    await world.hire(owner, barista)
    code = await world.join(customer, payload)
    prompt = await barista.ask(code)
    first = await barista.press(prompt, "Confirm")
    second = await barista.press(
        prompt, data=prompt.buttons()[0]["callback_data"] if prompt.buttons() else "buy:ok:1"
    )
    assert first.text == "Confirmed."
    assert second.text == "This purchase was already confirmed."
    assert await _stamps(world, customer.id) == 1
    card = await customer.next_message()
    assert "1/10" in card.body
    assert "1/10" in (await customer.ask("/card")).body  # and no second card notification came before it


async def test_cancel_adds_nothing(
    world: World, owner: TelegramUser, barista: TelegramUser, customer: TelegramUser
) -> None:
    payload = await world.create_shop()
    await world.hire(owner, barista)
    code = await world.join(customer, payload)
    prompt = await barista.ask(code)
    confirm_data = prompt.buttons()[0]["callback_data"]
    assert (await barista.press(prompt, "Cancel")).text == "Cancelled."
    assert await barista.until(lambda: "Nothing was added" in prompt.body)
    assert (await barista.press(prompt, data=confirm_data)).text == "This purchase was cancelled."
    assert await _stamps(world, customer.id) == 0


async def test_daily_cap(
    world: World, owner: TelegramUser, barista: TelegramUser, customer: TelegramUser
) -> None:
    payload = await world.create_shop(rules=ProgramRules(daily_stamp_cap=3))
    await world.hire(owner, barista)
    code = await world.join(customer, payload)
    assert (await barista.press(await barista.ask(f"/stamp {code} 2"), "Confirm")).text == "Confirmed."
    assert (await barista.ask(f"/stamp {code} 2")).body == (
        "Nothing was added: Ayu can get only 1 more stamp today (daily limit 3). Confirm fewer purchases."
    )
    await barista.press(await barista.ask(code), "Confirm")
    await customer.next_message()
    await customer.next_message()  # the two cards
    assert (
        (await barista.ask(code)).body
        == "Nothing was added: Ayu already got today's 3 stamps, the shop's daily limit. They can collect again tomorrow."
    )
    assert (await customer.next_message()).body == world.says(
        "id",
        "You already collected today's {cap} stamps at <b>{shop}</b>, the most one day gives. Your next stamp can come tomorrow 🙂",
        cap=3,
        shop="Kopi Senja",
    )
    world.clock.advance(days=1)
    assert "Add 1 stamp for 1 purchase?" in (await barista.ask(code)).body


async def test_invites_work_once_and_expire(world: World, owner: TelegramUser, barista: TelegramUser) -> None:
    await world.create_shop()
    team = await owner.ask("/staff")
    await owner.press(team, "➕")
    link = (await owner.next_message()).body.split("start=")[1].split()[0]
    late = world.user(205, "Late", "en")

    world.clock.advance(hours=25)
    assert "not valid any more" in (await late.ask(f"/start {link}")).body
    assert (await late.ask("/program")).body == "Only the shop owner can do that."

    world.clock.advance(hours=-25)
    assert "You are now staff" in (await barista.ask(f"/start {link}")).body
    assert "not valid any more" in (await late.ask(f"/start {link}")).body
    assert "not valid any more" in (await late.ask("/start staff_forgedtoken123")).body


async def test_expired_and_used_reward_codes(
    world: World, owner: TelegramUser, barista: TelegramUser, customer: TelegramUser
) -> None:
    payload = await world.create_shop(
        rules=ProgramRules(stamps_required=2, reward_valid_days=30, daily_stamp_cap=0)
    )
    await world.hire(owner, barista)
    code = await world.join(customer, payload)
    await barista.press(await barista.ask(f"/stamp {code} 2"), "Confirm")
    await customer.next_message()
    reward_code = code_in((await customer.next_message()).body)
    assert "1 free drink" in (await barista.ask(reward_code)).body  # a bare reward code opens a redemption

    world.clock.advance(days=31)
    assert (await barista.ask(f"/redeem {reward_code}")).body == "This reward code has expired."
    assert "belum punya hadiah" in (await customer.ask("/rewards")).body


async def test_revoked_staff_cannot_use_their_pending_prompt(
    world: World, owner: TelegramUser, barista: TelegramUser, customer: TelegramUser
) -> None:
    payload = await world.create_shop()
    await world.hire(owner, barista)
    code = await world.join(customer, payload)
    prompt = await barista.ask(code)

    team = await owner.ask("/staff")
    assert "Budi" in team.body and "@budi" in team.body
    await owner.press(team, "Keluarkan Budi")
    assert await owner.until(lambda: "Keluarkan Budi dari tim?" in team.body)  # the owner confirms first
    assert (await owner.press(team, "✅ Keluarkan Budi")).text == world.says(
        "id", "{first_name} was removed from the team.", first_name="Budi"
    )
    assert await owner.until(lambda: "Budi" not in team.body)
    assert "You were removed from the team of <b>Kopi Senja</b>" in (await barista.next_message()).body

    assert (await barista.press(prompt, "Confirm")).text == "Only staff of this shop can do that."
    assert await _stamps(world, customer.id) == 0
