"""The first hour (issue 9), as the person sees it: the words and screens they get."""

from __future__ import annotations

import io
import re

from PIL import Image

from kartu.loyalty.program import ProgramRules
from kartu.media.card_image import ACCENT, BACKGROUND, CardPicture, render_card
from kartu.media.text import emoji_font_file
from kartu.sandbox import TelegramUser
from kartu.sandbox.emulator import SentMessage
from tests.e2e.world import World, code_in


async def test_a_customer_who_sends_their_own_code_is_told_to_show_it(
    world: World, owner: TelegramUser, barista: TelegramUser
) -> None:
    payload = await world.create_shop(rules=ProgramRules(stamps_required=2, daily_stamp_cap=0))
    await world.hire(owner, barista)
    customer, stranger = world.user(300, "Ayu", "en"), world.user(301, "Eve", "en")
    code = await world.join(customer, payload)
    assert (
        await customer.ask(code)
    ).body == "That is your own code 🙂 Show it at the counter when you pay, and staff will add your stamp."
    await barista.press(await barista.ask(f"/stamp {code} 2"), "Confirm")
    await customer.next_message()
    reward_code = code_in((await customer.next_message()).body)
    assert (
        await customer.ask(reward_code.lower())
    ).body == "That is your reward code 🎁 Show it to staff at the counter to use it."
    assert (
        await stranger.ask(code)
    ).body == "Only staff of this shop can do that."  # someone else's code: nothing learnt


async def test_anyone_can_find_their_telegram_id(world: World) -> None:
    await world.create_shop()
    await world.create_shop("Barber Jaya", owner_id=110)  # two shops: /start alone joins neither
    person = world.user(4242, "Rina", "en")
    greeting = await person.ask("/start")
    assert "Open your shop's link" in greeting.body and "<code>4242</code>" in greeting.body
    assert (await person.ask("/whoami")).body == "Your Telegram user id is <code>4242</code> (Rina)."


async def test_survey_buttons_read_alike_and_broadcasts_name_the_shop(
    world: World, owner: TelegramUser, barista: TelegramUser
) -> None:
    payload = await world.create_shop(rules=ProgramRules(survey_delay_minutes=1, daily_stamp_cap=0))
    await world.hire(owner, barista)
    customer = world.user(300, "Ayu", "en")
    code = await world.join(customer, payload)
    await barista.press(await barista.ask(code), "Confirm")
    await customer.next_message()
    world.clock.advance(minutes=2)
    await world.deliver()
    survey = await customer.next_message()
    assert [button["text"] for button in survey.buttons()] == ["1 ⭐", "2 ⭐", "3 ⭐", "4 ⭐", "5 ⭐"]

    await owner.ask("/broadcast")
    segments = await owner.ask("Kopi susu 2-for-1 today!")
    await owner.press(segments, "Semua anggota")
    await owner.next_message()
    await owner.press(await owner.next_message(), "Kirim")
    await world.deliver()
    news = [m for m in customer.unread() if "2-for-1" in m.body]
    assert news and news[-1].body == "📣 <b>Kopi Senja</b>\nKopi susu 2-for-1 today!"


async def test_the_staff_prompt_tells_two_ayus_apart_and_mentions_a_waiting_reward(
    world: World, owner: TelegramUser, barista: TelegramUser
) -> None:
    payload = await world.create_shop(rules=ProgramRules(stamps_required=2, daily_stamp_cap=0))
    await world.hire(owner, barista)
    first, second = world.user(300, "Ayu", "en", "ayu_k"), world.user(301, "Ayu", "en")
    first_code, second_code = await world.join(first, payload), await world.join(second, payload)
    prompt = await barista.ask(second_code)
    assert prompt.body.startswith("🏪 <b>Kopi Senja</b>\n👤 <b>Ayu</b> · first visit\nAyu has 0/2 stamps.")
    await barista.press(await barista.ask(f"/stamp {first_code} 2"), "Confirm")
    world.clock.advance(days=1)
    prompt = await barista.ask(first_code)
    assert "👤 <b>Ayu</b> @ayu_k · last visit 5 Jan 2026" in prompt.body
    assert "🎁 Ayu has 1 reward waiting: ask for the reward code to redeem it." in prompt.body


def _picture(message: SentMessage) -> Image.Image:
    assert message.photo is not None, message.body
    return Image.open(io.BytesIO(message.photo)).convert("RGB")


def _filled_stamps(picture: Image.Image) -> int:
    """Stamps drawn filled: the accent colour sampled at the centre of each circle of the first two rows."""
    return sum(
        1
        for row in range(2)
        for column in range(5)
        if picture.getpixel((120 + 140 * column, 220 + 140 * row - 20)) == ACCENT
    )


async def test_the_stamp_that_fills_the_card_shows_it_full_then_the_reward(
    world: World, owner: TelegramUser, barista: TelegramUser
) -> None:
    payload = await world.create_shop(rules=ProgramRules(stamps_required=10, daily_stamp_cap=0))
    await world.hire(owner, barista)
    customer = world.user(300, "Ayu", "en")
    code = await world.join(customer, payload)
    await barista.press(await barista.ask(f"/stamp {code} 9"), "Confirm")
    ninth = await customer.next_message()
    assert ninth.body.startswith("✅ +9 stamps!") and _filled_stamps(_picture(ninth)) == 9

    await barista.press(await barista.ask(code), "Confirm")
    full, reward = await customer.next_message(), await customer.next_message()
    assert full.body.split("\n")[:3] == [
        "✅ +1 stamp!",
        "🎉 <b>Kopi Senja</b>: your card is full!",
        "Your reward code comes next.",
    ]
    assert _filled_stamps(_picture(full)) == 10  # not the fresh 0/10 card
    assert reward.body.startswith("🎁 Your reward: <b>1 free drink</b>\nShow this code to staff: <code>")
    card = await customer.ask("/card")
    held = _picture(card)
    assert _filled_stamps(held) == 0 and "🎁 You have 1 reward to use: /rewards" in card.body
    assert held.size[1] == _picture(ninth).size[1] + 50  # the held reward is written on the card picture


async def test_the_daily_limit_is_told_to_staff_and_customer_in_their_own_words(
    world: World, owner: TelegramUser, barista: TelegramUser
) -> None:
    payload = await world.create_shop(rules=ProgramRules(daily_stamp_cap=1))
    await world.hire(owner, barista)
    customer = world.user(300, "Ayu", "id")
    code = await world.join(customer, payload)
    await barista.press(await barista.ask(code), "Confirm")
    await customer.next_message()
    assert (await barista.ask(code)).body.startswith("Nothing was added: Ayu already got today's 1 stamps")
    assert (await customer.next_message()).body.startswith(
        "Kamu sudah dapat 1 stempel hari ini di <b>Kopi Senja</b>"
    )


async def test_each_role_gets_its_own_keyboard_help_and_command_menu(
    world: World, owner: TelegramUser, barista: TelegramUser
) -> None:
    payload = await world.create_shop()
    customer = world.user(300, "Ayu", "en")
    await world.join(customer, payload)
    assert customer.inbox[-1].keyboard_labels() == [
        "🎟 My card",
        "🔑 My code",
        "🎁 Rewards",
        "❓ Help",
        "🧾 Ask for my stamp",
    ]
    assert "claim" in customer.commands() and "stamp" not in customer.commands()

    help_text = await owner.ask("/help")
    assert help_text.body.startswith("<b>Mengelola toko</b>") and "<b>Di kasir</b>" in help_text.body
    assert help_text.keyboard_labels() == [
        "🔗 Link & QR",
        "👥 Tim",
        "⚙️ Program",
        "📊 Statistik",
        "📣 Kirim pesan",
        "❓ Bantuan",
    ]
    assert owner.commands()[:3] == ["link", "program", "staff"]
    assert "Tim Kopi Senja" in (await owner.ask("👥 Tim")).body  # the button does what /staff does

    await world.hire(owner, barista)
    assert barista.inbox[-1].keyboard_labels() == ["🛎 On duty / off", "🏪 My shop", "❓ Help"]
    assert "stamp" in barista.commands() and "link" not in barista.commands()
    assert (await barista.ask("🛎 On duty / off")).body.startswith("You are on duty")

    await world.join(barista, payload)  # the barista collects stamps too: a switch both ways
    switch = await barista.ask("/help")
    assert "🎟 My cards (customer)" in switch.keyboard_labels()
    as_customer = await barista.ask("🎟 My cards (customer)")
    assert as_customer.keyboard_labels()[-1] == "🧑‍🍳 Staff menu" and "claim" in barista.commands()
    assert (
        "<b>At the counter</b>" in (await barista.ask("🧑‍🍳 Staff menu")).body
        and "stamp" in barista.commands()
    )

    team = await owner.ask("/staff")
    await owner.press(team, "Keluarkan Budi")
    await owner.until(lambda: "dari tim?" in team.body)
    await owner.press(team, "✅ Keluarkan Budi")
    removed = await barista.next_message()
    assert removed.body.startswith("You were removed from the team")
    assert "🧑‍🍳 Staff menu" not in removed.keyboard_labels() and "stamp" not in barista.commands()


async def test_the_team_list_describes_owners_and_new_staff_truthfully(
    world: World, owner: TelegramUser, barista: TelegramUser
) -> None:
    await world.create_shop()
    await world.hire(owner, barista)
    team = await owner.ask("/staff")
    assert "• Sari @sari_kopi — pemilik, sejak 5 Jan 2026 (kamu)" in team.body
    assert "• Budi @budi — staf, bergabung 5 Jan 2026, belum pernah memberi stempel" in team.body
    assert "not active" not in team.body and "belum aktif" not in team.body


async def test_the_program_is_grouped_and_edited_in_place(world: World, owner: TelegramUser) -> None:
    await world.create_shop()
    program = await owner.ask("/program")
    assert [line for line in program.body.split("\n") if line.startswith("<b>")][1:] == [
        "<b>🎟 Kartu</b>",
        "<b>⏳ Masa berlaku</b>",
        "<b>🎁 Bonus</b>",
        "<b>💬 Pesan</b>",
    ]
    assert "• Stempel hangus: <b>setelah 180 hari tanpa kunjungan</b>" in program.body
    assert "• Pengingat sebelum hangus: <b>7 dan 1 hari sebelumnya</b>" in program.body
    assert all(len(b["text"]) <= 20 for b in program.buttons()) and len(program.inline_rows()) == 10

    await owner.press(program, "🎯 Stempel")
    assert program.body.startswith(
        "Stempel untuk satu hadiah saat ini: <b>10</b>."
    )  # the same message, now the question
    sent = await owner.send("8")
    await owner.until(
        lambda: program.body.startswith("✅ Tersimpan: Stempel untuk satu hadiah sekarang <b>8</b>.")
    )
    assert owner.reaction_to(sent) == ["👍"] and owner.unread() == []  # nothing re-sent

    await owner.press(program, "📅 Batas harian")
    await owner.press(program, "Kembali")
    assert program.body.startswith("<b>Program loyalitas Kopi Senja</b>")
    assert "belum paham" in (await owner.ask("3")).body  # Back closed the question


async def test_codes_and_cards_carry_the_shop_name_and_its_emoji(world: World) -> None:
    payload = await world.create_shop("Kopi Senja ☕", owner_id=110)
    customer = world.user(300, "Ayu", "en")
    await world.join(customer, payload)
    qr = await customer.ask("/code")
    picture = _picture(qr)
    under = picture.crop(
        (0, picture.height - 140, picture.width, picture.height)
    )  # below the QR's white border
    assert (
        min(sum(colour) for _, colour in under.getcolors(maxcolors=100_000) or []) < 100
    )  # the code and the shop are written under the QR
    card = _picture(await customer.ask("/card"))
    title = card.crop((0, 30, 800, 110))
    colours = {colour for _, colour in title.getcolors(maxcolors=100_000) or []}
    if emoji_font_file() is not None:  # Debian's fonts-noto-color-emoji (installed by .ci/run)
        assert any(
            abs(r - g) > 40 or abs(g - b) > 40 for r, g, b in colours if (r, g, b) not in {ACCENT, BACKGROUND}
        )
    assert "Kopi Senja ☕" in qr.body


def test_a_fifty_stamp_card_stays_a_card() -> None:
    png = render_card(CardPicture("Kopi Senja", 13, 50, "Reward: 1 free drink", "13 of 50 stamps"))
    assert Image.open(io.BytesIO(png)).size == (800, 630)  # was 800 x 1680


async def test_an_owner_link_for_a_username_works_only_for_that_username(world: World) -> None:
    created = await world.app.services.merchants.create_merchant("Barber Jaya", owner_username="@Budi_Barber")
    assert created.owner_for_username == "budi_barber" and created.owner_telegram_id is None
    payload = f"owner_{created.owner_invite_token}"
    eve = world.user(401, "Eve", "en", "eve")
    assert (await eve.ask(f"/start {payload}")).body.startswith(
        "This owner link was made for someone else's Telegram account."
    )
    budi = world.user(402, "Budi", "en", "budi_barber")
    assert "Welcome, owner of <b>Barber Jaya</b>" in (await budi.ask(f"/start {payload}")).body
    known = await world.app.services.merchants.create_merchant("Barber Dua", owner_username="budi_barber")
    assert known.owner_telegram_id == 402  # someone the bot knows becomes owner at once


async def test_link_sends_the_join_link_with_a_printable_poster(world: World, owner: TelegramUser) -> None:
    await world.create_shop()
    await owner.send("/link")
    poster, a6, a5 = await owner.next_message(), await owner.next_message(), await owner.next_message()
    assert "https://t.me/kartu_test_bot?start=m_kopi-senja" in poster.body and "A6" in poster.body
    assert _picture(poster).size == (1240, 1748)  # A6 at 300 dpi
    assert (a6.document_name, a5.document_name) == ("kopi-senja-poster-A6.pdf", "kopi-senja-poster-A5.pdf")
    for document, (width_mm, height_mm) in ((a6, (105, 148)), (a5, (148, 210))):
        assert document.document is not None and document.document.startswith(b"%PDF")
        box = re.search(rb"/MediaBox \[\s*0 0 ([\d.]+) ([\d.]+)", document.document)
        assert box is not None
        assert (
            abs(float(box.group(1)) / 72 * 25.4 - width_mm) < 0.5
            and abs(float(box.group(2)) / 72 * 25.4 - height_mm) < 0.5
        )
