"""Bonuses through the bot: a welcome gift in the welcome, a birthday told with /birthday and given
on the day, an /invite link that pays both only after the friend's first purchase."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from kartu.sandbox import TelegramUser
from tests.e2e.world import World, code_in


async def _set(owner: TelegramUser, button: str, value: str) -> None:
    program = await owner.ask("/program")
    await owner.press(program, button)
    await owner.send(value)
    await owner.until(lambda: "Tersimpan" in program.body)


async def test_welcome_birthday_and_referral(
    world: World, owner: TelegramUser, barista: TelegramUser, customer: TelegramUser
) -> None:
    join = await world.create_shop()
    await world.hire(owner, barista)
    await _set(owner, "Sambutan", "2")
    await _set(owner, "Ulang tahun", "3")
    await _set(owner, "Ajak teman", "4")

    welcome = await customer.ask(f"/start {join}")
    assert "🎁 Hadiah selamat datang: 2 stempel sudah ada di kartumu." in welcome.body

    question = await customer.ask("/birthday")
    assert "Kapan ulang tahunmu?" in question.body
    assert "misalnya 17-08" in (await customer.ask("30 Februari")).body  # refused, asked again
    assert "Tersimpan: <b>17 Agustus</b>" in (await customer.ask("17 agustus")).body
    assert "Bisa diubah lagi mulai" in (await customer.ask("/birthday")).body

    invite = await customer.ask("/invite")
    link = re.search(r"start=(r_[\w-]+)", invite.body)
    assert link and "kalian berdua dapat 4 stempel" in invite.body
    friend = world.user(400, "Dewi", "en")
    joined = await friend.ask(f"/start {link.group(1)}")
    assert "Ayu invited you: 7 days after your first purchase you both get 4 stamps." in joined.body
    assert "Itu link ajakanmu sendiri" in (await customer.ask(f"/start {link.group(1)}")).body

    await world.sweep()
    await world.deliver()
    assert (
        customer.unread() == [] and [m for m in friend.unread() if "🤝" in m.body] == []
    )  # not before a purchase
    friend.mark_read()

    prompt = await barista.ask(code_in(joined.body))
    await barista.press(prompt, "Confirm")
    await friend.next_message()  # the card
    assert (await world.sweep()).bonuses_given == 0  # the purchase may still be refunded
    world.clock.advance(hours=3)
    await world.deliver()
    assert "How was your visit" in (await friend.next_message()).body
    world.clock.advance(days=7)
    assert (await world.sweep()).bonuses_given == 1
    await world.deliver()
    paid = await friend.next_message()
    assert "Dewi" not in paid.body and "Ayu's invitation pays: +4 stamps for you" in paid.body
    thanked = await customer.next_message()
    assert "Dewi sudah belanja pertama kali" in thanked.body and "+4 stempel" in thanked.body

    world.clock.set(datetime(2027, 8, 17, 2, tzinfo=UTC))  # 09:00 on 17 August in Jakarta
    assert (await world.sweep()).bonuses_given == 1
    await world.deliver()
    gift = await customer.next_message()
    assert "Selamat ulang tahun dari <b>Kopi Senja</b>! Ini hadiah untukmu: 3 stempel." in gift.body
    assert (await world.sweep()).bonuses_given == 0
