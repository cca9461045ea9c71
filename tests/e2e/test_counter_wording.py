"""What staff and owners read says everything that happened: a sale in a shop running stamps and
points names the stamp as well as the points; quiet hours turned off read "none"."""

from __future__ import annotations

from kartu.sandbox import TelegramUser
from tests.e2e.world import World


async def test_a_sale_in_a_shop_running_both_names_the_stamp_too(
    world: World, owner: TelegramUser, barista: TelegramUser, customer: TelegramUser
) -> None:
    join = await world.create_shop()
    await world.hire(owner, barista)
    await world.app.services.merchants.choose_kinds(owner.id, stamps=True, points=True)
    code = await world.join(customer, join)
    prompt = await barista.ask(f"/buy {code} 125.000")
    await barista.press(prompt, "Confirm")
    await barista.until(lambda: "got 12 points for Rp 125,000" in prompt.body)
    assert "And 1 stamp: 1/10" in prompt.body


async def test_quiet_hours_turned_off_read_none(world: World, owner: TelegramUser) -> None:
    await world.create_shop()
    program = await owner.ask("/program")
    await owner.press(program, "Jam tenang")
    await owner.send("0")
    await owner.until(lambda: "Tersimpan" in program.body)
    assert "Jam tenang (tanpa pengingat, survei, atau pesan promo): <b>tidak ada</b>" in program.body
    assert "00:00" not in program.body


async def test_every_message_of_an_answer_arrives_under_telegrams_per_chat_limit(
    world: World, owner: TelegramUser, customer: TelegramUser
) -> None:
    join = await world.create_shop()
    await world.join(customer, join)
    world.emulator.enforce_limits(per_chat_interval=1.0)  # a second message within 1 s: 429
    qr = await customer.ask("/code")
    assert qr.photo is not None and "<code>" in qr.body  # the code and its QR: one message
    owner.mark_read()
    await owner.send("/stats")
    text, chart = await owner.next_message(), await owner.next_message(timeout=15)
    assert "Kopi Senja" in text.body and chart.photo is not None  # the chart waited out the 429
    assert world.emulator.rate_limited >= 1
