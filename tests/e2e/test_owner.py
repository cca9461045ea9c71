"""Owners set up their program in a guided chat form; admins create merchants in chat."""

from __future__ import annotations

import re

from kartu.sandbox import TelegramUser
from tests.e2e.conftest import ADMIN_ID, World


async def test_owner_changes_the_program_in_a_guided_form(world: World, owner: TelegramUser, customer: TelegramUser) -> None:
    payload = await world.create_shop()
    await world.join(customer, payload)

    program = await owner.ask("/program")
    assert "Stempel untuk satu hadiah: <b>10</b>" in program.body
    await owner.press(program, "Stempel untuk satu hadiah")
    question = await owner.next_message()
    assert "dari 2 sampai 50" in question.body

    assert (await owner.ask("sepuluh")).body == "Mohon kirim bilangan bulat dari 2 sampai 50."
    assert (await owner.ask("51")).body == "Mohon kirim bilangan bulat dari 2 sampai 50."
    await owner.send_sticker()
    assert (await owner.next_message()).body == "Mohon kirim nilai baru sebagai teks, atau /cancel."
    saved = await owner.ask("8")
    assert saved.body.startswith("Tersimpan.") and "Stempel untuk satu hadiah: <b>8</b>" in saved.body

    await owner.press(saved, "Hadiah")
    await owner.next_message()
    renamed = await owner.ask("Es kopi susu gratis")
    assert "Hadiah: <b>Es kopi susu gratis</b>" in renamed.body

    await owner.press(renamed, "Batas stempel harian")
    await owner.next_message()
    assert (await owner.ask("/cancel")).body == "Dibatalkan. Tidak ada yang diubah."
    assert "tidak mengerti" in (await owner.ask("7")).body  # the form is closed: a plain number means nothing

    card = await customer.ask("/card")
    assert "0/8 — 8 lagi untuk Es kopi susu gratis" in card.body

    program = await owner.ask("/program")
    assert "Jam tenang (tanpa pengingat, survei, atau siaran): <b>21:00-08:00</b>" in program.body
    await owner.press(program, "Jam tenang")
    await owner.next_message()
    assert (await owner.ask("25-8")).body == "Mohon kirim jam tenang seperti 21-8 atau 22:30-07:00, atau 0 untuk tidak ada."
    assert "Jam tenang (tanpa pengingat, survei, atau siaran): <b>22:30-07:00</b>" in (await owner.ask("22.30 - 7")).body


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
    assert "Wulan — pemilik" in roster.body and "Hapus Wulan" in str(roster.buttons())
    assert "Hapus Sari" not in str(roster.buttons())  # an owner does not remove themselves here
