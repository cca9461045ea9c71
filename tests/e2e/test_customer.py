"""What a customer sees: joining, the card picture, the code and QR, language switching."""

from __future__ import annotations

from kartu.sandbox import TelegramUser
from tests.e2e.world import World, code_in


async def test_plain_start_joins_the_only_shop_in_the_customers_language(
    world: World, customer: TelegramUser
) -> None:
    await world.create_shop()
    welcome = await customer.ask("/start")
    assert "Selamat datang di <b>Kopi Senja</b>, Ayu! Kartu stempelmu sudah siap." in welcome.body
    assert "0/10 — 10 lagi dapat 1 free drink" in welcome.body
    assert welcome.keyboard_labels() == [
        "🎟 Kartu saya",
        "🔑 Kode saya",
        "🎁 Hadiah",
        "❓ Bantuan",
        "🧾 Minta stempel",
    ]

    again = await customer.ask("/start")
    assert "Selamat datang lagi" in again.body
    assert code_in(again.body) == code_in(welcome.body)


async def test_card_code_and_rewards(world: World) -> None:
    payload = await world.create_shop()
    customer = world.user(301, "Dewi", "en")
    code = await world.join(customer, payload)

    card = await customer.ask("/card")
    assert card.photo is not None and card.photo.startswith(b"\x89PNG") and len(card.photo) > 5_000
    assert "0/10 — 10 more for 1 free drink" in card.body

    qr = await customer.ask("🔑 My code")  # one message: the QR with the code under it
    assert f"<code>{code}</code>" in qr.body and "Show this QR code" in qr.body
    assert qr.photo is not None and qr.photo.startswith(b"\x89PNG")

    assert "no rewards" in (await customer.ask("🎁 Rewards")).body


async def test_language_switch_keeps_old_buttons_working(world: World) -> None:
    payload = await world.create_shop()
    customer = world.user(302, "Rina", "en")
    await world.join(customer, payload)

    choice = await customer.ask("/lang")
    answer = await customer.press(choice, "Bahasa Indonesia")
    assert answer.text is None
    confirmation = await customer.next_message()
    assert confirmation.body == "Bahasa diganti ke Bahasa Indonesia."
    assert "🎟 Kartu saya" in confirmation.keyboard_labels()

    card = await customer.ask("🎟 My card")  # a button of the English keyboard still on screen
    assert "lagi dapat" in card.body
    help_text = await customer.ask("/help")
    assert "Kartu member kamu" in help_text.body and len(help_text.body) < 4096


async def test_start_without_a_shop_to_join(world: World) -> None:
    visitor = world.user(303, "Tono", "en")
    assert "Open your shop's link" in (await visitor.ask("/start")).body
    await world.create_shop("Kopi Senja")
    await world.create_shop("Barber Jaya", owner_id=101)
    assert "Open your shop's link" in (await visitor.ask("/start")).body
    assert "You have not joined a shop yet" in (await visitor.ask("/card")).body
    assert "does not lead to any shop" in (await visitor.ask("/start m_no-such-shop")).body
    assert "does not lead to any shop" in (await visitor.ask("/start m_<script>")).body
