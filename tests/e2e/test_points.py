"""Points through the bot: the owner turns them on and fills the catalogue, staff enter amounts,
the customer exchanges points for a reward and gives one back, reminders and expiry on the clock,
and the owner's change by hand."""

from __future__ import annotations

from kartu.sandbox import TelegramUser
from tests.e2e.world import World, code_in


async def _points_shop(
    world: World, owner: TelegramUser, barista: TelegramUser, customer: TelegramUser
) -> str:
    join = await world.create_shop()
    await world.hire(owner, barista)
    program = await owner.ask("/program")
    await owner.press(program, "Stempel atau poin")
    await owner.press(program, "Poin saja")
    await owner.until(lambda: "Ganti <b>Kopi Senja</b> ke <b>⭐ Poin saja</b>?" in program.body)
    await owner.press(program, "Ganti")  # nobody holds stamps yet: nothing to decide
    await owner.until(lambda: "Berjalan: <b>⭐ Poin saja</b>" in program.body)
    assert "💰 Rupiah per poin" in str(program.buttons()) and "🎯" not in str(program.buttons())
    return await world.join(customer, join)


async def test_points_from_amount_to_catalogue_reward_and_back(
    world: World, owner: TelegramUser, barista: TelegramUser, customer: TelegramUser
) -> None:
    code = await _points_shop(world, owner, barista, customer)

    # The owner adds a reward with the guided form, with a photo and a stock of one.
    catalogue = await owner.ask("/catalogue")
    assert "Belum ada" in catalogue.body
    await owner.press(catalogue, "Tambah hadiah")
    await owner.until(lambda: "Nama hadiahnya" in catalogue.body)
    await owner.send("Es Kopi <Susu>")
    await owner.until(lambda: "Harganya berapa poin" in catalogue.body)
    assert (
        await owner.ask("0")
    ).body == "Kirim angka bulat dari 1 sampai 1.000.000, ya."  # a price of 0: asked again
    await owner.send("20")
    await owner.until(lambda: "cek sebelum disimpan" in catalogue.body)
    assert "Harga: <b>20 poin</b>" in catalogue.body
    await owner.press(catalogue, "Simpan")
    item = catalogue
    await owner.until(lambda: "<b>Es Kopi &lt;Susu&gt;</b>" in item.body and "Harga: 20 poin" in item.body)
    await owner.press(item, "Foto")
    await owner.until(lambda: "foto hadiahnya" in item.body)
    await owner.send_photo()
    await owner.until(lambda: "Foto: ya" in item.body)
    await owner.press(item, "Stok")
    await owner.until(lambda: "Atau ketuk Kembali" in item.body)
    await owner.send("1")
    await owner.until(lambda: "Stok: 1" in item.body)

    # Staff: the code asks for the amount; the prompt shows "Rp 125.000 → 12 poin" before Confirm.
    question = await barista.ask(code)
    assert "How much did <b>Ayu</b> spend?" in question.body
    assert "send the amount" in (await barista.ask("-5000")).body.lower()
    prompt = await barista.ask("125rb")
    assert "<b>Rp 125,000 → 12 points</b>" in prompt.body
    assert (await barista.press(prompt, "Confirm")).text == "Confirmed."
    news = await customer.next_message()
    assert "✅ +12 poin untuk belanja Rp 125.000!" in news.body and "⭐ 12 poin" in news.body
    await barista.until(lambda: "Ayu got 12 points for Rp 125,000 and now has 12 points" in prompt.body)

    prompt = await barista.ask(f"/buy {code} Rp 100.000")
    await barista.press(prompt, "Confirm")
    await customer.next_message()

    # The customer sees what 22 points buy, picks the reward, confirms, and gets a code.
    rewards = await customer.ask("/rewards")
    assert "kamu punya 22 poin" in rewards.body and "Es Kopi &lt;Susu&gt; — 20 poin" in rewards.body
    await customer.press(rewards, "Es Kopi")
    offer = await customer.next_message()  # the reward's photo, with the question
    assert offer.photo is not None and "Sisa poinmu nanti 2 poin" in offer.body
    get_it = offer.buttons()[0]["callback_data"]
    assert (await customer.press(offer, "Ambil")).text == "Beres!"
    await customer.until(lambda: "Kode hadiahnya ada di pesan berikut" in offer.body)
    issued = await customer.next_message()
    reward_code = code_in(issued.body)
    assert "Hadiahmu: <b>Es Kopi &lt;Susu&gt;</b>" in issued.body
    again = await customer.press(offer, data=get_it)  # a second tap (a slow network, an old screen)
    assert again.text == "Kamu sudah mendapat hadiah ini: kodenya ada di obrolan."

    # Sold out for the next one; given back, the points and the stock return.
    assert "habis" in (await customer.ask("/rewards")).body
    answer = await customer.press(issued, "Kembalikan")
    assert answer.text == "Dikembalikan."
    assert "20 poin kembali. Poinmu sekarang 22 poin" in (await customer.next_message()).body
    redeem = await barista.ask(f"/redeem {reward_code}")
    assert "expired" in redeem.body.lower()  # a reward given back no longer works at the counter

    # The owner adds points by hand, with a reason; the customer is told why.
    done = await owner.ask(f"/adjust {code} +30 maaf menunggu lama")
    assert "52 poin" in done.body
    told = await customer.next_message()
    assert "menambahkan 30 poin ke saldomu: maaf menunggu lama" in told.body


async def test_points_reminder_then_expiry_on_the_clock(
    world: World, owner: TelegramUser, barista: TelegramUser, customer: TelegramUser
) -> None:
    code = await _points_shop(world, owner, barista, customer)
    prompt = await barista.ask(f"/buy {code} 1.200.000")
    await barista.press(prompt, "Confirm")
    await customer.next_message()

    world.clock.advance(days=365 - 7, hours=2)  # a week before the points lapse (12 months)
    report = await world.sweep()
    assert report.reminders_queued == 1
    await world.deliver()
    survey = await customer.next_message()  # a points purchase asks how the visit was, as a stamp does
    assert "Gimana kunjunganmu" in survey.body
    reminder = await customer.next_message()
    assert "pakai poinmu sebelum hangus" in reminder.body and "120 poin hangus pada" in reminder.body
    await customer.press(reminder, "Lihat hadiah")
    assert "kamu punya 120 poin" in (await customer.next_message()).body

    world.clock.advance(days=8)
    assert (await world.sweep()).point_batches_expired == 1
    assert "kamu punya 0 poin" in (await customer.ask("/rewards")).body
    card = await customer.ask("/card")
    assert card.photo is not None and "⭐ 0 poin" in card.body  # a points shop's card is the code's QR
