"""The kinds a shop runs decide what it offers, through the bot: a switch from stamps to points is
previewed first (who holds how many stamps, what comes off the wheel) and the owner keeps the
stamps (cards finish them) or converts them; customers are told and their card, keyboard and /help
follow; a wheel prize in a unit the shop does not run is refused."""

from __future__ import annotations

from kartu.sandbox import TelegramUser
from tests.e2e.world import World


async def _switch_to_points(owner: TelegramUser) -> object:
    program = await owner.ask("/program")
    await owner.press(program, "Stempel atau poin")
    await owner.press(program, "Poin saja")
    await owner.until(lambda: "Ganti <b>Kopi Senja</b>" in program.body)
    return program


async def _stamps(barista: TelegramUser, customer: TelegramUser, code: str, purchases: int) -> None:
    prompt = await barista.ask(f"/stamp {code} {purchases}")
    await barista.press(prompt, "Confirm")
    await customer.next_message()  # the card
    customer.mark_read()


async def test_stamps_kept_after_a_switch_to_points_finish_their_card(
    world: World, owner: TelegramUser, barista: TelegramUser, customer: TelegramUser
) -> None:
    join = await world.create_shop()
    await world.hire(owner, barista)
    await world.app.services.merchants.change_program(owner.id, "daily_stamp_cap", "0")
    await world.app.services.wheel.add_prize(owner.id, "2 stamps; 20%")
    code = await world.join(customer, join)
    await _stamps(barista, customer, code, 8)

    program = await _switch_to_points(owner)
    assert "1 pelanggan memegang 8 stempel. Mau diapakan?" in program.body  # type: ignore[attr-defined]
    assert "Hadiah roda 2 stempel dihapus dari roda." in program.body  # type: ignore[attr-defined]  # named in Indonesian
    await owner.press(program, "Simpan")  # type: ignore[arg-type]
    await owner.until(lambda: "Berjalan: <b>⭐ Poin saja</b>" in program.body)  # type: ignore[attr-defined]
    await world.deliver()
    told = await customer.next_message()
    assert "8 stempel milikmu tetap di kartu" in told.body and "8/10" in told.body

    card = await customer.ask("/card")
    assert "8/10" in card.body  # not hidden: the stamps are still there
    shown = await customer.ask("/help")
    assert "🧾 Minta poin" in shown.keyboard_labels() and "🧾 Minta stempel" not in shown.keyboard_labels()
    help_text = shown.body
    assert (
        "/card — poin, level dan hadiah kamu" in help_text and "/ajak" in help_text and "/ultah" in help_text
    )
    assert "/donasi" in help_text and "/putar" in help_text and "/invite" not in help_text

    # The card keeps collecting until it is full: two purchases give the reward, the third no stamp.
    for amount in ("50.000", "60.000"):
        prompt = await barista.ask(f"/buy {code} {amount}")
        await barista.press(prompt, "Confirm")
    await customer.until(lambda: any("🎁" in message.body for message in customer.unread()))
    prompt = await barista.ask(f"/buy {code} 70.000")
    assert "→ 7 points" in prompt.body and "stamp" not in prompt.body  # the card is done: points only
    wheel = await owner.ask("/wheel")
    assert "• 2 stempel" not in wheel.body  # the prize in stamps came off the wheel


async def test_stamps_converted_into_points_and_the_customer_is_told(
    world: World, owner: TelegramUser, barista: TelegramUser, customer: TelegramUser
) -> None:
    join = await world.create_shop()
    await world.hire(owner, barista)
    code = await world.join(customer, join)
    await _stamps(barista, customer, code, 3)

    program = await _switch_to_points(owner)
    await owner.press(program, "Tukar ke poin")  # type: ignore[arg-type]
    await owner.until(lambda: "Satu stempel jadi berapa poin?" in program.body)  # type: ignore[attr-defined]
    assert "1 sampai 100.000" in (await owner.ask("0")).body  # refused: asked again
    await owner.send("10")
    await owner.until(lambda: "jadi 30 poin (10 poin per stempel)" in program.body)  # type: ignore[attr-defined]
    await owner.press(program, "Tukar")  # type: ignore[arg-type]
    await owner.until(lambda: "Berjalan: <b>⭐ Poin saja</b>" in program.body)  # type: ignore[attr-defined]
    await world.deliver()
    told = await customer.next_message()
    assert "3 stempel milikmu jadi 30 poin" in told.body
    card = await customer.ask("/card")
    assert "⭐ 30 poin" in card.body and "/10" not in card.body


async def test_a_points_shop_refuses_a_wheel_prize_in_stamps(
    world: World, owner: TelegramUser, barista: TelegramUser
) -> None:
    await world.create_shop()
    await world.app.services.merchants.choose_kinds(owner.id, stamps=False, points=True)
    screen = await owner.ask("/wheel")
    await owner.press(screen, "➕")
    await owner.until(lambda: "Hadiahnya apa" in screen.body)
    assert "Stempel" not in str(screen.buttons()) and "⭐ Poin" in str(screen.buttons())
    refused = await owner.ask("stempel")  # typed instead of tapped: refused all the same
    assert "Toko ini tidak memakai stempel" in refused.body
    assert "Hadiahnya apa" in screen.body  # the form stays at its question
