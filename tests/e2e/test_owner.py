"""Owners set up their program in a guided chat form; admins create merchants in chat."""

from __future__ import annotations

import re

from kartu.sandbox import TelegramUser
from tests.e2e.world import ADMIN_ID, World


async def test_owner_changes_the_program_in_a_guided_form(
    world: World, owner: TelegramUser, customer: TelegramUser
) -> None:
    payload = await world.create_shop()
    await world.join(customer, payload)

    program = await owner.ask("/program")
    assert "Stempel untuk satu hadiah: <b>10</b>" in program.body
    await owner.press(program, "🎯 Stempel")
    assert "dari 2 sampai 50" in program.body  # the question replaces the program, in the same message

    assert (await owner.ask("sepuluh")).body == "Kirim angka bulat dari 2 sampai 50, ya."
    assert (await owner.ask("51")).body == "Kirim angka bulat dari 2 sampai 50, ya."
    await owner.send_sticker()
    assert (await owner.next_message()).body == world.says(
        "id", "Please send the new value as text, or /cancel."
    )
    await owner.send("8")
    await owner.until(
        lambda: (
            program.body.startswith("✅ Tersimpan") and "Stempel untuk satu hadiah: <b>8</b>" in program.body
        )
    )

    await owner.press(program, "🎁 Hadiah")
    await owner.send("Es kopi susu gratis")
    await owner.until(lambda: "Hadiah: <b>Es kopi susu gratis</b>" in program.body)

    await owner.press(program, "📅 Batas harian")
    assert (await owner.ask("/cancel")).body == world.says("id", "Cancelled. Nothing was changed.")
    assert "belum paham" in (await owner.ask("7")).body  # the form is closed: a plain number means nothing

    card = await customer.ask("/card")
    assert "0/8 — 8 lagi dapat Es kopi susu gratis" in card.body

    program = await owner.ask("/program")
    assert "Jam tenang (tanpa pengingat, survei, atau pesan promo): <b>21:00–08:00</b>" in program.body
    await owner.press(program, "🌙 Jam tenang")
    assert (await owner.ask("25-8")).body == world.says(
        "id", "Please send the quiet hours like 21-8 or 22:30-07:00, or 0 for none."
    )
    await owner.send("22.30 - 7")
    await owner.until(
        lambda: "Jam tenang (tanpa pengingat, survei, atau pesan promo): <b>22:30–07:00</b>" in program.body
    )


async def test_admin_creates_a_merchant_and_its_owner_takes_over(world: World) -> None:
    admin = world.user(ADMIN_ID, "Admin", "en")
    created = await admin.ask("/newmerchant Barber Jaya")
    assert "Created <b>Barber Jaya</b>" in created.body
    owner_payload = re.search(r"start=(owner_[\w-]+)", created.body).group(1)  # type: ignore[union-attr]
    assert "https://t.me/kartu_test_bot?start=m_barber-jaya" in created.body

    new_owner = world.user(120, "Joko", "en")
    assert "Welcome, owner of <b>Barber Jaya</b>" in (await new_owner.ask(f"/start {owner_payload}")).body
    team = await new_owner.ask("/staff")
    assert "Joko — owner" in team.body
    assert "not valid any more" in (await world.user(121, "Eve", "en").ask(f"/start {owner_payload}")).body

    assert (await admin.ask("/newmerchant")).body == "Send it like this: /newmerchant Kopi Senja"


async def test_owner_created_by_the_operator_is_greeted_as_owner(world: World, owner: TelegramUser) -> None:
    await world.create_shop()
    greeting = await owner.ask("/start")
    assert "Selamat datang, pemilik <b>Kopi Senja</b>" in greeting.body
    assert "Sari" in (await owner.ask("/staff")).body  # the name Telegram gave is kept from now on


async def test_a_second_owner_runs_the_shop_too(world: World, owner: TelegramUser) -> None:
    await world.create_shop()
    team = await owner.ask("/staff")
    await owner.press(team, "Undang pemilik kedua")
    invite = await owner.next_message()
    payload = re.search(r"start=(owner_[\w-]+)", invite.body).group(1)  # type: ignore[union-attr]
    partner = world.user(130, "Wulan", "en")
    assert "Welcome, owner of <b>Kopi Senja</b>" in (await partner.ask(f"/start {payload}")).body
    assert "Stamps for a reward" in (await partner.ask("/program")).body
    roster = await owner.ask("/staff")
    assert "Wulan — pemilik" in roster.body and "Keluarkan Wulan" in str(roster.buttons())
    assert "Keluarkan Sari" not in str(roster.buttons())  # an owner does not remove themselves here
