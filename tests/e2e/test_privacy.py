"""Personal data through the bot: /forget erases the birthday too; /mydata holds points, birthday,
invitations, memberships and Stars payments, the level, spins, vouchers and gifts to causes; /leave
and /forget cancel a Stars subscription with Telegram and say so; erasure works any number of
times; coming back after /forget pays no second welcome gift or referral bonus."""

from __future__ import annotations

import json

from sqlalchemy import text

from kartu.sandbox import TelegramUser
from kartu.services.partners import Proposal
from tests.e2e.world import World, code_in


async def _member(world: World, owner: TelegramUser, customer: TelegramUser, join: str) -> str:
    """``customer`` joins and pays the shop's Stars membership; the subscription's charge id."""
    await world.app.services.membership.set_offer(owner.id, "Gold Club; 100")
    await world.join(customer, join)
    screen = await customer.ask("/member")
    await customer.press(screen, "Join")
    link = str((await customer.next_message()).buttons()[0]["url"])
    charge = await world.emulator.pay(customer._user(), link)
    assert charge is not None
    await customer.next_message()  # welcome to the club
    return charge


async def test_forget_erases_the_birthday_and_cancels_the_stars_subscription(
    world: World, owner: TelegramUser
) -> None:
    join = await world.create_shop()
    customer = world.user(310, "Nia", "en", "nia_n")
    charge = await _member(world, owner, customer, join)
    await customer.ask("/birthday 17-08")
    warning = await customer.ask("/forget")
    await customer.press(warning, "Confirm")
    await customer.until(lambda: "erased" in warning.body)
    assert "cancelled with Telegram: it will not renew" in warning.body
    assert world.emulator.charges[charge]["canceled"] is True
    async with world.app.services.customers.db.read() as uow:
        row = await uow.session.execute(
            text(
                "SELECT birthday_day, birthday_month, birthday_set_at, username, first_name FROM person "
                "WHERE forgotten_at IS NOT NULL"
            )
        )
        assert row.one() == (None, None, None, None, "")


async def test_leave_cancels_the_stars_subscription_of_that_shop(world: World, owner: TelegramUser) -> None:
    join = await world.create_shop()
    customer = world.user(311, "Rudi", "en")
    charge = await _member(world, owner, customer, join)
    warning = await customer.ask("/leave")
    await customer.press(warning, "Confirm")
    await customer.until(lambda: "You left" in warning.body)
    assert "will not renew" in warning.body and world.emulator.charges[charge]["canceled"] is True
    world.clock.advance(days=31)
    assert await world.emulator.renew_due() == 0  # Telegram charges nobody for a card that is gone


async def test_mydata_holds_every_kind_a_shop_runs(
    world: World, owner: TelegramUser, barista: TelegramUser
) -> None:
    join = await world.create_shop()
    await world.hire(owner, barista)
    services = world.app.services
    await services.merchants.choose_kinds(owner.id, stamps=True, points=True)
    await services.merchants.change_program(owner.id, "referral_bonus", "2")
    await services.tiers.add(owner.id, "Gold; 1")
    await services.wheel.add_prize(owner.id, "3 points; 100%")
    await services.wheel.set_rule(owner.id, "every")
    await services.causes.start(owner.id, "Rumah Kucing; 5.000.000; 31-12-2026")
    await services.causes.change(owner.id, "match", "10.000 per 100.000")
    await services.merchants.create_merchant("Toko Emas", 110)
    partners = await services.partners.propose(
        owner.id,
        Proposal("toko-emas", "over 50.000", "10% off any ring; 50.000", "30 days; 100 a month"),
    )
    await services.partners.decide(110, partners.partnerships[0].partnership_id, accept=True)
    friend = world.user(312, "Rina", "en")
    await world.join(friend, join)
    invite = await friend.ask("/invite")
    customer = world.user(313, "Dewi", "en", "dewi_d")
    payload = invite.body.split("start=")[1].split()[0].split("<")[0]
    code = code_in((await customer.ask(f"/start {payload}")).body)
    await customer.ask("/birthday 17-08")
    prompt = await barista.ask(f"/buy {code} 120.000")
    await barista.press(prompt, "Confirm")
    await customer.until(  # the card, the spin and the partner's voucher, which may come last
        lambda: all(
            any(said in message.body for message in customer.unread())
            for said in ("earned a spin", "A gift from")
        )
    )
    customer.mark_read()
    spin = await customer.ask("/spin")
    await customer.press(spin, "Spin")

    await customer.send("/mydata")
    document = await customer.until(lambda: next((m for m in customer.unread() if m.document), None))
    data = json.loads(document.document)  # type: ignore[arg-type]
    assert data["person"]["birthday_day"] == 17 and data["person"]["birthday_month"] == 8
    assert data["cards"][0]["points"] > 0 and data["cards"][0]["tier_id"] is not None
    assert data["points"] and data["spins"][0]["status"] == "spun"
    assert data["invitations"][0]["status"] == "pending"
    assert any(row["asset"] == "cause" for row in data["ledger"])
    assert any(row["shop"] == "Toko Emas" for row in data["rewards"])  # the partner's voucher


async def test_erasure_works_again_and_again_and_pays_no_second_welcome(
    world: World, owner: TelegramUser, barista: TelegramUser
) -> None:
    join = await world.create_shop()
    await world.hire(owner, barista)
    services = world.app.services
    await services.merchants.change_program(owner.id, "welcome_bonus", "2")
    await services.merchants.change_program(owner.id, "referral_bonus", "3")
    await services.merchants.change_program(owner.id, "daily_stamp_cap", "0")
    friend = world.user(320, "Rina", "en")
    await world.join(friend, join)
    invite = await friend.ask("/invite")
    link = invite.body.split("start=")[1].split()[0].split("<")[0]
    farmer = world.user(321, "Eko", "en")
    for round_number in range(3):
        welcome = await farmer.ask(f"/start {link}")
        if round_number == 0:
            assert "welcome gift" in welcome.body and "invited you" in welcome.body
        else:  # back after /forget: a new card, but no second welcome gift nor referral
            assert "welcome gift" not in welcome.body and "invited you" not in welcome.body
        prompt = await barista.ask(code_in(welcome.body))
        await barista.press(prompt, "Confirm")
        await farmer.next_message()  # the card
        farmer.mark_read()
        warning = await farmer.ask("/forget")
        await farmer.press(warning, "Confirm")
        await farmer.until(lambda warning=warning: "erased" in warning.body)
        farmer.mark_read()
    world.clock.advance(days=8)
    await world.sweep()
    async with services.customers.db.read() as uow:
        welcomes = await uow.session.scalar(
            text("SELECT count(*) FROM ledger_entry WHERE reason = 'welcome'")
        )
        referrals = await uow.session.scalar(text("SELECT count(*) FROM referral"))
        forgotten = await uow.session.scalar(
            text("SELECT count(*) FROM person WHERE forgotten_at IS NOT NULL")
        )
    assert (welcomes, referrals, forgotten) == (2, 1, 3)  # Rina's and Eko's first; one referral
