"""Spin the wheel through the bot: the owner adds a prize and says what earns a spin; a purchase
earns one (with a Spin button); the customer sees the odds, spins, watches the wheel turn (an
animated GIF) and gets the prize; a second tap spins nothing."""

from __future__ import annotations

from kartu.sandbox import TelegramUser
from tests.e2e.world import World


async def test_a_spin_through_the_bot(world: World, owner: TelegramUser, barista: TelegramUser) -> None:
    join = await world.create_shop()
    await world.hire(owner, barista)
    # The owner adds a prize step by step on the /wheel screen, edited in place, with Back.
    screen = await owner.ask("/wheel")
    await owner.press(screen, "➕")
    await owner.until(lambda: "langkah 1 dari" in screen.body)
    assert "⭐ Poin" not in str(screen.buttons())  # a stamps shop offers no points prize
    await owner.press(screen, "Stempel")
    await owner.until(lambda: "Berapa banyak?" in screen.body)
    await owner.send("2")
    await owner.until(lambda: "Peluangnya" in screen.body)
    assert "misalnya 25%" in (await owner.ask("200%")).body  # refused, asked again: the form stays
    await owner.press(screen, "Kembali")  # back to how many
    await owner.until(lambda: "Berapa banyak?" in screen.body)
    await owner.send("2")
    await owner.until(lambda: "Peluangnya" in screen.body)
    await owner.send("100%")
    await owner.until(lambda: "sehari" in screen.body)
    await owner.send("1")
    await owner.until(lambda: "sebulan" in screen.body)
    await owner.press(screen, "Lewati")  # no monthly limit
    await owner.until(lambda: "cek sebelum disimpan" in screen.body)
    assert "Maksimal sebulan: <b>tanpa batas</b>" in screen.body
    await owner.press(screen, "Simpan")
    await owner.until(lambda: "• 2 stempel — 100% · 1/hari" in screen.body)
    await owner.press(screen, "🎯")
    await owner.until(lambda: "Apa yang memberi putaran" in screen.body or "putaran" in screen.body)
    await owner.send("tiap")
    await owner.until(lambda: "Setiap pembelian" in screen.body)

    customer = world.user(304, "Rudi", "en")
    code = await world.join(customer, join)
    prompt = await barista.ask(code)
    await barista.press(prompt, "Confirm")
    await customer.next_message()  # the card
    earned = await customer.next_message()  # with the purchase, not on the scheduler's turn
    assert "earned a spin of the wheel" in earned.body

    wheel = await customer.ask("/spin")
    assert "• 2 stamps — 100%" in wheel.body and "You have 1 spin" in wheel.body
    spin = wheel.buttons()[0]["callback_data"]
    await customer.press(earned, "Spin")
    animation = await customer.next_message()
    assert animation.method == "sendAnimation" and (animation.document or b"").startswith(b"GIF89a")
    won = await customer.next_message()
    assert "🎉 You won 2 stamps at <b>Kopi Senja</b>!" in won.body
    again = await customer.press(wheel, data=spin)
    assert again.show_alert and "no spin left" in (again.text or "")
    assert "3/10" in (await customer.ask("/card")).body


async def test_the_result_comes_after_the_wheel_has_turned_and_stats_name_it_in_the_owners_language(
    world: World, owner: TelegramUser, barista: TelegramUser
) -> None:
    join = await world.create_shop()
    await world.hire(owner, barista)
    await world.app.services.wheel.add_prize(owner.id, "2 stamps; 100%")
    await world.app.services.wheel.set_rule(owner.id, "every")
    customer = world.user(305, "Sinta", "en")
    code = await world.join(customer, join)
    prompt = await barista.ask(code)
    await barista.press(prompt, "Confirm")
    earned = await customer.until(
        lambda: next((message for message in customer.unread() if "earned a spin" in message.body), None)
    )
    customer.mark_read()
    await customer.press(earned, "Spin")
    await world.deliver()  # the scheduler's dispatcher runs while the wheel is being drawn
    animation = await customer.next_message()
    assert animation.method == "sendAnimation", animation.body  # the wheel first: nothing spoiled
    assert "You won 2 stamps" in (await customer.next_message()).body
    stats = await owner.ask("/stats")
    await owner.until(lambda: stats.edits)  # "⏳ Counting…", edited into the numbers
    assert "2 stempel ×1" in stats.body and "2 stamps" not in stats.body
