"""A customer says "I bought something"; staff on duty approve or reject; the first decision wins."""

from __future__ import annotations

import asyncio

from kartu.loyalty.program import ProgramRules
from kartu.sandbox import TelegramUser
from tests.e2e.world import World


async def _stamps(world: World, telegram_id: int) -> int:
    return (await world.app.services.customers.card(telegram_id)).stamps


async def _setup(world: World, owner: TelegramUser, barista: TelegramUser, customer: TelegramUser) -> None:
    payload = await world.create_shop(rules=ProgramRules(daily_stamp_cap=0, survey_every_days=0))
    await world.hire(owner, barista)
    await owner.ask("/start")  # the owner is greeted (and stays staff, not a customer)
    await world.join(customer, payload)


async def test_first_decision_wins_and_every_copy_shows_who_decided(
    world: World, owner: TelegramUser, barista: TelegramUser, customer: TelegramUser
) -> None:
    await _setup(world, owner, barista, customer)
    assert (await customer.ask("🧾 Minta stempel")).body == world.says(
        "id", "Thanks! Staff will confirm your purchase in a moment."
    )
    to_owner, to_barista = await owner.next_message(), await barista.next_message()
    assert "<b>Ayu</b> bilang baru belanja pukul 10:00" in to_owner.body
    assert "<b>Ayu</b> says they bought something at 10:00.\nCard: 0/10" in to_barista.body

    assert "sudah kamu kabarkan" in (await customer.ask("/claim")).body  # repeated taps do not spam staff
    assert owner.unread() == [] and barista.unread() == []

    assert (await barista.press(to_barista, "Approve")).text == "Approved."
    assert await owner.until(
        lambda: to_owner.body == "✅ Belanja Ayu disetujui Budi." and not to_owner.buttons()
    )
    assert await barista.until(lambda: to_barista.body == "✅ Ayu's purchase approved by Budi.")
    card = await customer.next_message()
    assert "1/10" in card.body and card.photo
    assert (await owner.press(to_owner, data="clm:ok:1:")).text == "Sudah disetujui Budi."
    assert await _stamps(world, customer.id) == 1


async def test_two_staff_racing_on_one_claim_credit_once(
    world: World, owner: TelegramUser, barista: TelegramUser, customer: TelegramUser
) -> None:
    await _setup(world, owner, barista, customer)
    await customer.ask("/claim 25.000")
    to_owner, to_barista = await owner.next_message(), await barista.next_message()
    assert (
        "(Rp 25,000)" in to_barista.body and "(Rp 25.000)" in to_owner.body
    )  # each reads it in their own locale
    answers = await asyncio.gather(owner.press(to_owner, "Setujui"), barista.press(to_barista, "Approve"))
    assert sum(a.text in {"Approved.", "Disetujui."} for a in answers) == 1
    assert await _stamps(world, customer.id) == 1


async def test_rejected_and_expired_claims_add_nothing(
    world: World, owner: TelegramUser, barista: TelegramUser, customer: TelegramUser
) -> None:
    await _setup(world, owner, barista, customer)
    await customer.ask("/claim")
    await owner.next_message()
    request = await barista.next_message()
    assert (await barista.press(request, "Reject")).text == "Rejected."
    assert "belum bisa mengonfirmasi" in (await customer.next_message()).body

    # After a rejection the customer waits ten minutes before staff hear from them again.
    assert "10 menit" in (await customer.ask("/claim")).body
    assert barista.unread() == [] and owner.unread() == []
    world.clock.advance(minutes=10)
    await customer.ask("/claim")
    await owner.next_message()
    request = await barista.next_message()
    world.clock.advance(minutes=31)
    assert (
        await barista.press(request, "Approve")
    ).text == "This claim expired: claims are open for 30 minutes."
    assert await _stamps(world, customer.id) == 0
    assert "nominal" in (await customer.ask("/claim lots")).body
    for odd in ("0", "25.000.000.000", "٢٥٠٠٠", "²", "1.5", "-5"):
        assert "dari 1 sampai 100.000.000" in (await customer.ask(f"/claim {odd}")).body, odd


async def test_claims_go_to_staff_on_duty(
    world: World, owner: TelegramUser, barista: TelegramUser, customer: TelegramUser
) -> None:
    await _setup(world, owner, barista, customer)
    assert "You are on duty" in (await barista.ask("/duty")).body
    await customer.ask("/claim")
    assert "says they bought something" in (await barista.next_message()).body
    assert owner.unread() == []
    assert "Only staff" in (await world.user(999, "Stranger", "en").ask("/duty")).body
    assert "belum gabung" in (await world.user(998, "Nobody", "id").ask("/claim")).body
