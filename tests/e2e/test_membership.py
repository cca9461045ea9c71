"""Paid membership with Telegram Stars through the bot and the emulator's payment flow: an offer, a
Stars invoice, the pre-checkout check, the payment (a free reward, 1.5x points), a renewal, an
invoice for an offer that changed refused at checkout, the renewal cancelled with a reminder
before the end, a refund that stops the perks, /paysupport."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from kartu.sandbox import SentMessage, TelegramUser
from tests.e2e.world import World


async def _join(customer: TelegramUser) -> str:
    screen = await customer.ask("/member")
    await customer.press(screen, "Join")
    pay = await customer.next_message()
    return str(pay.buttons()[0]["url"])


async def _offer(
    owner: TelegramUser, name: str, stars: str, multiplier: str, item: str | None, refused_stars: str = ""
) -> SentMessage:
    """The owner sets the offer step by step on the /membership screen."""
    screen = await owner.ask("/membership")
    await owner.press(screen, "✏️")
    await owner.until(lambda: "Namanya apa" in screen.body)
    await owner.send(name)
    await owner.until(lambda: "Telegram Stars" in screen.body and "langkah 2" in screen.body)
    if refused_stars:
        assert "10.000" in (await owner.ask(refused_stars)).body  # over Telegram's 10,000 Stars
    await owner.send(stars)
    await owner.until(lambda: "kali lipat" in screen.body)
    await owner.send(multiplier)
    await owner.until(lambda: "katalogmu" in screen.body)
    await owner.press(screen, item or "Lewati")
    await owner.until(lambda: "cek sebelum disimpan" in screen.body)
    await owner.press(screen, "Simpan")
    await owner.until(lambda: "Tersimpan" in screen.body)
    return screen


async def test_a_membership_paid_in_stars(world: World, owner: TelegramUser, barista: TelegramUser) -> None:
    emulator = world.emulator
    join = await world.create_shop()
    await world.hire(owner, barista)
    services = world.app.services
    await services.merchants.choose_kinds(owner.id, stamps=False, points=True)
    await services.catalogue.add(owner.id, "Iced Latte", "100")
    screen = await _offer(owner, "Gold Club", "100", "1,5", "Iced Latte", refused_stars="20000")
    assert "💎 <b>Gold Club</b>" in screen.body and "1,5×" in screen.body

    customer = world.user(306, "Nia", "en")
    code = await world.join(customer, join)
    link = await _join(customer)
    invoice = emulator.invoices[link]
    assert invoice["amount"] == 100 and invoice["period"] == 2_592_000
    charge = await emulator.pay(customer._user(), link)
    assert charge is not None
    welcome = await customer.next_message()
    assert "Welcome to <b>Gold Club</b> at <b>Kopi Senja</b>" in welcome.body
    assert "Iced Latte" in (await customer.next_message()).body  # the period's free reward, with its code
    prompt = await barista.ask(f"/buy {code} 100.000")
    assert "15" in prompt.body  # 10 points x 1.5 for a member
    await barista.press(prompt, "Confirm")
    assert "+15 points" in (await customer.next_message()).body

    # Telegram renews it; a second delivery of the same payment changes nothing.
    renewal = await emulator.pay(customer._user(), link, renewal_of=charge)
    assert "renewed" in (await customer.next_message()).body
    assert "Iced Latte" in (await customer.next_message()).body  # the new period's free reward
    assert renewal is not None

    # The owner changes the offer: an invoice made for the old one is refused at checkout.
    await _offer(owner, "Gold Club", "150", "1,5", None)
    other = world.user(307, "Budi", "en")
    await world.join(other, join)
    old = await _join(other)
    assert await emulator.pay(other._user(), link) is None  # the first invoice, made for the old offer
    assert emulator.invoices[old]["amount"] == 150

    # The member cancels the renewal: reminded three days before the end, then the perks stop.
    screen = await customer.ask("/member")
    await customer.press(screen, "Cancel the renewal")
    await customer.until(lambda: "stay a member until" in screen.body)
    await customer.press(screen, "Confirm")
    assert emulator.charges[charge]["canceled"] is True
    world.clock.advance(days=57)
    await world.sweep()
    await world.deliver()
    assert any("ends on" in message.body for message in customer.unread())
    world.clock.advance(days=4)
    assert (await world.sweep()).memberships_ended == 1
    prompt = await barista.ask(f"/buy {code} 100.000")
    assert "→ 10 " in prompt.body or "10 poin" in prompt.body or "10 points" in prompt.body

    # The other customer joins for the new price; the owner refunds them: the perks stop.
    new_charge = await emulator.pay(other._user(), old)
    assert new_charge is not None
    owner.mark_read()
    other_code = (await world.app.services.customers.card(other.id)).personal_code
    refunded = await owner.ask(f"/refund {other_code}")
    assert "Budi" in refunded.body
    assert emulator.charges[new_charge]["refunded"] is True
    customer.mark_read()
    support = await customer.ask("/paysupport")
    assert "Telegram Stars" in support.body


async def test_a_period_gives_its_reward_once_whatever_order_telegram_sends_payments_in(
    world: World, owner: TelegramUser
) -> None:
    emulator = world.emulator
    join = await world.create_shop()
    services = world.app.services
    await services.merchants.choose_kinds(owner.id, stamps=False, points=True)
    await services.catalogue.add(owner.id, "Iced Latte", "100")
    await services.membership.set_offer(owner.id, "Gold Club; 100; 1.5; Iced Latte")

    # A renewal that arrives after Kartu ended the membership is a renewal, not a first join.
    customer = world.user(308, "Nia", "en")
    await world.join(customer, join)
    link = await _join(customer)
    first = await emulator.pay(customer._user(), link)
    assert "Welcome to" in (await customer.next_message()).body
    assert "Iced Latte" in (await customer.next_message()).body
    world.clock.advance(days=32)  # Telegram was late: the sweep ended the membership
    assert (await world.sweep()).memberships_ended == 1
    await world.deliver()
    customer.mark_read()
    await emulator.pay(customer._user(), link, renewal_of=first)
    assert "renewed" in (await customer.next_message()).body
    assert "Iced Latte" in (await customer.next_message()).body  # the new period's, once

    # A renewal delivered before the first payment: two periods, two rewards, nothing shortened.
    other = world.user(309, "Budi", "en")
    await world.join(other, join)
    link = await _join(other)
    held = await emulator.pay(other._user(), link, hold=True)
    assert held is not None
    await emulator.pay(other._user(), link, renewal_of=held)
    assert "renewed" in (await other.next_message()).body
    await emulator.release_payment(held)
    await other.until(lambda: any("Welcome to" in message.body for message in other.unread()))
    async with services.membership.db.read() as uow:
        ends = await uow.session.scalar(
            text(
                "SELECT paid_until FROM membership m JOIN person p ON p.id = m.person_id WHERE p.telegram_id = 309"
            )
        )
        rewards = await uow.session.scalar(
            text("SELECT count(*) FROM ledger_entry WHERE reason = 'membership' AND asset = 'reward'")
        )
    assert rewards == 4  # one a period: Nia's two, Budi's two
    assert str(ends).startswith(str((world.clock.now() + timedelta(days=60)).date()))


async def test_a_payment_that_does_not_match_its_offer_grants_nothing_and_is_refunded(
    world: World, owner: TelegramUser
) -> None:
    join = await world.create_shop()
    await world.app.services.membership.set_offer(owner.id, "Gold Club; 100")
    customer = world.user(310, "Sari", "en")
    await world.join(customer, join)
    link = await _join(customer)
    charge = await world.emulator.pay(customer._user(), link, reported_total=1)
    told = await customer.next_message()
    assert "did not match the offer" in told.body and "refunded" in told.body
    assert world.emulator.charges[charge or ""]["refunded"] is True
    assert "Join" in str((await customer.ask("/member")).buttons())  # not a member
