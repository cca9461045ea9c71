"""Partner vouchers through the bot: an owner proposes step by step, the partner's owner accepts in
chat; a customer's purchase over the amount brings the partner's voucher with its address and a
map; the partner's staff redeem it as any reward; the vouchers' CSV."""

from __future__ import annotations

from kartu.sandbox import TelegramUser
from tests.e2e.world import World, code_in


async def test_a_partner_voucher_through_the_bot(
    world: World, owner: TelegramUser, barista: TelegramUser
) -> None:
    join = await world.create_shop()
    await world.hire(owner, barista)
    await world.app.services.merchants.choose_kinds(owner.id, stamps=False, points=True)
    jeweller = world.user(110, "Rina", "en")
    await world.create_shop("Toko Emas", owner_id=jeweller.id)
    jeweller_staff = world.user(210, "Eko", "en")
    await world.hire(jeweller, jeweller_staff)

    # The jeweller sets the address and the map shown on its vouchers.
    screen = await jeweller.ask("/partners")
    slug = screen.body.split("<code>")[1].split("</code>")[0]
    await jeweller.press(screen, "📍")
    await jeweller.until(lambda: "Or tap Back" in screen.body)
    await jeweller.send("Jl. Braga 12, Bandung")
    await jeweller.until(lambda: "Jl. Braga 12, Bandung" in screen.body)
    await jeweller.press(screen, "🗺")
    await jeweller.until(lambda: "Or tap Back" in screen.body)
    await jeweller.send_location(-6.9175, 107.6191)
    await jeweller.until(lambda: "with a map" in screen.body)

    # Kopi Senja proposes step by step: a purchase of Rp 500.000 or more brings 10% off at the jeweller.
    screen = await owner.ask("/partners")
    await owner.press(screen, "➕")
    await owner.until(lambda: "Toko mana" in screen.body)
    for answer, next_question in (
        (slug, "Apa yang harus"),
        ("di atas 500rb", "Vouchernya memberi apa"),
        ("10% off any ring", "Nilainya berapa"),
        ("50.000", "Ada syarat"),
        ("not with other promotions", "berapa hari"),
        ("30", "sebulan"),
    ):
        if answer == "di atas 500rb":
            assert "500.000" in (await owner.ask("kadang-kadang")).body  # refused, asked again
        await owner.send(answer)
        await owner.until(lambda next_question=next_question: next_question in screen.body)
    await owner.send("10")
    await owner.until(lambda: "cek sebelum disimpan" in screen.body)
    assert "Toko Emas" in screen.body and "Rp 500.000" in screen.body
    await owner.press(screen, "Simpan")
    await owner.until(lambda: "Terkirim" in screen.body)
    await world.deliver()
    offer = next(message for message in jeweller.unread() if "proposes a partnership" in message.body)
    assert "one purchase of Rp 500,000 or more" in offer.body
    await jeweller.press(offer, "Accept")
    await world.deliver()
    assert any("menerima" in message.body or "accepted" in message.body for message in owner.unread())

    # A customer's purchase over the amount: the voucher, the address, the map.
    customer = world.user(305, "Dewi", "en")
    code = await world.join(customer, join)
    prompt = await barista.ask(f"/buy {code} 600.000")
    await barista.press(prompt, "Confirm")
    await customer.next_message()  # the points
    voucher = await customer.next_message()
    assert "10% off any ring</b> at <b>Toko Emas" in voucher.body and "Jl. Braga 12, Bandung" in voucher.body
    venue = await customer.next_message()
    assert venue.method == "sendVenue" and venue.venue == (-6.9175, 107.6191)

    # The jeweller's staff redeem it as any reward code.
    redeem = await jeweller_staff.ask(code_in(voucher.body))
    await jeweller_staff.press(redeem, "Confirm")
    assert "10% off any ring" in (await customer.next_message()).body  # used: the customer is told

    owner.mark_read()
    screen = await owner.ask("/partners")
    assert "This month: 1 of 10" in screen.body or "1 dari 10" in screen.body
    await owner.press(screen, "📄")
    document = await owner.next_message()
    rows = (document.document or b"").decode("utf-8-sig").splitlines()
    assert len(rows) == 2 and "Kopi Senja,Toko Emas" in rows[1] and rows[1].endswith(",50000")
