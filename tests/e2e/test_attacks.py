"""Kartu attacked through its own chat, as a rival shop, a dishonest barista, a careless owner and
a stranger would (issue 7): each attack is played and does no harm."""

from __future__ import annotations

import csv
import io
import json
import re

from kartu.loyalty.errors import LastOwner
from kartu.loyalty.program import ProgramRules
from kartu.sandbox import TelegramUser
from tests.e2e.world import World, code_in

UNKNOWN = "I don't know that code. Please check it and try again."
STALE = "This button is no longer valid."


def en(world: World, user_id: int, name: str) -> TelegramUser:
    return world.user(user_id, name, "en")


async def _member_and_rival(world: World) -> tuple[TelegramUser, str, TelegramUser]:
    """Ayu, a member of Kopi Senja (with her code), and Joko, owner of Barber Jaya on the same bot."""
    customer = en(world, 300, "Ayu")
    code = await world.join(customer, await world.create_shop())
    rival = en(world, 110, "Joko")
    await world.create_shop("Barber Jaya", owner_id=rival.id)
    return customer, code, rival


async def _counter(
    world: World, owner: TelegramUser, rules: ProgramRules | None = None, customer: TelegramUser | None = None
) -> tuple[TelegramUser, TelegramUser, str]:
    """Kopi Senja with Budi at the counter and a member (Ayu unless given); returns Budi, her and her code."""
    payload = await world.create_shop(rules=rules)
    barista, customer = en(world, 200, "Budi"), customer or en(world, 300, "Ayu")
    await world.hire(owner, barista)
    return barista, customer, await world.join(customer, payload)


async def _rated_visit(
    world: World, barista: TelegramUser, customer: TelegramUser, code: str, stars: str
) -> None:
    """One purchase, then the survey (due a minute later) answered with ``stars``."""
    await barista.press(await barista.ask(code), "Confirm")
    await customer.next_message()
    world.clock.advance(minutes=2)
    await world.deliver()
    await customer.press(await customer.next_message(), stars)


async def _card(world: World, customer: TelegramUser) -> str:
    return (await customer.ask("/card")).body


async def _reward_for(world: World, barista: TelegramUser, customer: TelegramUser, code: str) -> str:
    """Two purchases fill a 2-stamp card; returns the reward code the customer got."""
    prompt = await barista.ask(f"/stamp {code} 2")
    await barista.press(prompt, "Confirm")
    await customer.next_message()  # the card
    return code_in((await customer.next_message()).body)


async def _ledger_balance(world: World, telegram_code: str | None = None) -> dict[str, int]:
    async with world.app.db.read() as uow:
        entries = await uow.ledger.entries(1)
    totals: dict[str, int] = {}
    for entry in entries:
        totals[entry.asset] = totals.get(entry.asset, 0) + entry.delta
    return totals


# 1 and 13 -----------------------------------------------------------------------------------
async def test_forged_redeem_buttons_redeem_nothing(world: World, owner: TelegramUser) -> None:
    payload = await world.create_shop(rules=ProgramRules(stamps_required=2, daily_stamp_cap=0))
    barista, colleague, customer = en(world, 200, "Budi"), en(world, 201, "Tono"), en(world, 300, "Ayu")
    await world.hire(owner, barista)
    await world.hire(owner, colleague)
    reward_code = await _reward_for(world, barista, customer, await world.join(customer, payload))
    unrelated = await barista.ask("/help")

    # The old attack: sequential ids in forged data, and any other shape of forgery.
    for forged in ("rdm:ok:1", "rdm:ok:2", "rdm:ok:" + "A" * 22, "rdm:no:1"):
        assert (await barista.press(unrelated, data=forged)).text == STALE
    assert "Code:" in (await customer.ask("/rewards")).body  # still there, and nobody was told "Enjoy"
    assert customer.unread() == []

    # Typing the code opens a prompt; its button works for the barista who typed it only.
    prompt = await barista.ask(reward_code)
    assert "🏪 <b>Kopi Senja</b>" in prompt.body and "Redeem" in prompt.body
    ok = prompt.buttons()[0]["callback_data"]
    assert (await colleague.press(prompt, data=ok)).text == STALE
    assert (await customer.press(prompt, data=ok)).text == "Only staff of this shop can do that."
    assert (
        await customer.press(prompt, data=prompt.buttons()[1]["callback_data"])
    ).text == "Only staff of this shop can do that."
    assert (await barista.press(prompt, "Confirm")).text == "Redeemed."
    assert "Enjoy" in (await customer.next_message()).body
    assert (await barista.press(prompt, data=ok)).text == "This reward was already redeemed."


async def test_a_rival_owner_cannot_cancel_a_broadcast(world: World, owner: TelegramUser) -> None:
    payload = await world.create_shop()
    await world.join(en(world, 300, "Ayu"), payload)
    rival = en(world, 110, "Joko")
    await world.create_shop("Barber Jaya", owner_id=rival.id)
    await owner.ask("/broadcast")
    segments = await owner.ask("Promo hari ini")
    await owner.press(segments, "Semua anggota")
    await owner.next_message()
    confirm = await owner.next_message()
    await owner.press(confirm, "Kirim")
    broadcast_id = await owner.until(
        lambda: next(
            (b["callback_data"] for b in confirm.buttons() if b["callback_data"].startswith("bca:stop")), None
        )
    )
    assert (await rival.press(confirm, data=broadcast_id)).text == STALE
    assert (
        await en(world, 301, "Stranger").press(confirm, data=broadcast_id)
    ).text == "Only the shop owner can do that."
    stranger = en(world, 302, "Stranger")
    for forged in ("bcs:all:", "bca:drop:0", "prog:nonsense", "team:revoke:1:0"):
        assert (await stranger.press(confirm, data=forged)).text == "Only the shop owner can do that.", forged
    for forged in ("clm:ok:1:", "buy:no:" + "A" * 22):
        assert (await stranger.press(confirm, data=forged)).text == "Only staff of this shop can do that.", (
            forged
        )
    assert (await world.deliver()).sent == 1  # it still goes out


# 2 ------------------------------------------------------------------------------------------
async def test_another_shops_staff_cannot_enrol_or_reach_a_customer(
    world: World, owner: TelegramUser
) -> None:
    customer, code, rival = await _member_and_rival(world)

    assert (await rival.ask(code)).body == UNKNOWN  # exactly what an unknown code gets
    assert (await rival.ask(f"/stamp {code}")).body == UNKNOWN
    assert "Ayu" not in (await rival.ask("/stats")).body
    await rival.next_message()  # the chart
    (members, _ledger), _ready = await world.export(rival)
    assert members.body == "Members: 0" and b"Ayu" not in (members.document or b"")
    await rival.ask("/broadcast")
    segments = await rival.ask("Diskon potong rambut!")
    assert "Everyone (0)" in [button["text"] for button in segments.buttons()]
    async with world.app.db.read() as uow:
        person = await uow.people.by_telegram_id(customer.id)
        assert await uow.cards.get(2, person.id) is None


# 5 ------------------------------------------------------------------------------------------
async def test_someone_working_at_two_shops_chooses_which_one(world: World, owner: TelegramUser) -> None:
    customer, code, other_owner = await _member_and_rival(world)
    # Sari (owner of Kopi Senja) accepts a staff invite at Barber Jaya...
    team = await other_owner.ask("/staff")
    await other_owner.press(team, "Invite staff")
    link = re.search(r"start=(staff_[\w-]+)", (await other_owner.next_message()).body).group(1)  # type: ignore[union-attr]
    welcome = await owner.ask(f"/start {link}")
    assert "Barber Jaya" in welcome.body and "/shop" in welcome.body

    # ...and still runs her own shop, stamping onto its cards.
    assert "Kopi Senja" in (await owner.ask("/program")).body
    prompt = await owner.ask(code)
    assert "🏪 <b>Kopi Senja</b>" in prompt.body
    await owner.press(prompt, "Konfirmasi")
    assert "1/10" in (await customer.next_message()).caption  # type: ignore[operator]

    shops = await owner.ask("/shop")
    assert [b["text"] for b in shops.buttons()] == ["✅ Kopi Senja (pemilik)", "Barber Jaya (staf)"]
    assert (await owner.press(shops, "Barber Jaya")).text == "Sekarang melayani Barber Jaya."
    assert "Kirim /shop" in (await owner.ask("/program")).body
    assert (await owner.ask(code)).body == world.says(
        "id", "I don't know that code. Please check it and try again."
    )
    assert (await owner.press(shops, data="shop:999:0")).text == world.says(
        "id", "Only staff of this shop can do that."
    )


# 6 ------------------------------------------------------------------------------------------
async def test_an_owner_removes_a_co_owner_but_never_the_last(world: World, owner: TelegramUser) -> None:
    await world.create_shop()
    team = await owner.ask("/staff")
    await owner.press(team, "Undang pemilik kedua")
    payload = re.search(r"start=(owner_[\w-]+)", (await owner.next_message()).body).group(1)  # type: ignore[union-attr]
    partner = en(world, 130, "Wulan")
    await partner.ask(f"/start {payload}")
    roster = await owner.ask("/staff")
    await owner.press(roster, "Keluarkan Wulan")
    await owner.press(
        await owner.until(lambda: roster if "dari tim?" in roster.body else None), "Jangan"
    )  # changed her mind
    assert await owner.until(lambda: "Wulan — pemilik" in roster.body)
    await owner.press(roster, "Keluarkan Wulan")
    await owner.until(lambda: "dari tim?" in roster.body)
    assert (await owner.press(roster, "✅ Keluarkan Wulan")).text == world.says(
        "id", "{first_name} was removed from the team.", first_name="Wulan"
    )
    assert "You were removed from the team of <b>Kopi Senja</b>" in (await partner.next_message()).body
    assert (await partner.ask("/export")).body == "Only the shop owner can do that."
    assert (await partner.ask("/broadcast")).body == "Only the shop owner can do that."
    # The last owner stays, whoever asks.
    owners = await world.app.services.merchants.owners("kopi-senja")
    assert [entry.telegram_id for entry in owners] == [owner.id]
    try:
        await world.app.services.merchants.remove_owner("kopi-senja", owner.id)
    except LastOwner:
        pass
    else:
        raise AssertionError("the last owner was removed")


# 7 ------------------------------------------------------------------------------------------
async def test_removed_staff_do_not_get_alerts_queued_before(world: World, owner: TelegramUser) -> None:
    barista, customer, code = await _counter(
        world, owner, ProgramRules(survey_delay_minutes=1, daily_stamp_cap=0)
    )
    await _rated_visit(
        world, barista, customer, code, "⭐"
    )  # the alerts are queued now, for the owner and Budi
    roster = await owner.ask("/staff")
    await owner.press(roster, "Keluarkan Budi")
    await owner.until(lambda: "dari tim?" in roster.body)
    await owner.press(roster, "✅ Keluarkan Budi")
    await barista.until(lambda: any("removed from the team" in m.body for m in barista.unread()))
    barista.mark_read()
    assert (await customer.ask("Kopinya dingin")).body == "Thank you for your feedback!"
    await world.deliver()
    assert "Kopinya dingin" in (await owner.next_message()).body
    assert barista.unread() == []


# 8 ------------------------------------------------------------------------------------------
async def test_a_formula_in_a_name_is_text_in_the_export(world: World, owner: TelegramUser) -> None:
    payload = await world.create_shop()
    for number, name in enumerate(['=HYPERLINK("http://x","y")', "+62 811", "@SUM(A1)", "-1+1"]):
        await world.join(en(world, 300 + number, name), payload)
    (members, _ledger), _ready = await world.export(owner)
    rows = list(csv.DictReader(io.StringIO(members.document.decode("utf-8-sig"))))  # type: ignore[union-attr]
    assert [row["Nama"] for row in rows] == ['\'=HYPERLINK("http://x","y")', "'+62 811", "'@SUM(A1)", "'-1+1"]
    assert {row["Stempel"] for row in rows} == {"0"}  # numbers stay numbers


# 9 ------------------------------------------------------------------------------------------
async def test_code_guessing_slows_down_then_locks_and_tells_the_owner(
    world: World, owner: TelegramUser
) -> None:
    barista, customer, code = await _counter(world, owner)
    guesses = iter(f"ZZZZ-{number:04d}".replace("0", "Z") for number in range(1000, 9999))

    for _ in range(10):
        assert (await barista.ask(next(guesses))).body == UNKNOWN
    assert (await barista.ask(next(guesses))).body.startswith("Too many unknown codes in a minute")
    assert (await barista.ask(code)).body.startswith("Too many unknown codes")  # even a real one, this minute
    for _ in range(9):  # ninety more misses, ten a minute
        world.clock.advance(minutes=1)
        for _ in range(10):
            assert (await barista.ask(next(guesses))).body == UNKNOWN
    world.clock.advance(minutes=1)
    assert (await barista.ask(code)).body.startswith("Code entry is locked")
    await world.deliver()
    alert = await owner.next_message()
    assert "Budi" in alert.body and "100" in alert.body and "/staff" in alert.body

    roster = await owner.ask("/staff")
    assert "🔒" in roster.body
    assert (await owner.press(roster, "Buka kunci Budi")).text == "Budi bisa memasukkan kode lagi."
    assert "Ayu" in (await barista.ask(code)).body


# 11 -----------------------------------------------------------------------------------------
async def test_odd_numbers_get_a_clear_answer(world: World, owner: TelegramUser) -> None:
    barista, customer, code = await _counter(world, owner)
    for odd in ("²", "①", "٣", "999999", "-1", "1.5", "0", "99999999999999999999999"):
        assert (
            await barista.ask(f"/stamp {code} {odd}")
        ).body == "The number of purchases must be between 1 and 20.", odd
    program = await owner.ask("/program")
    await owner.press(program, "🎯 Stempel")
    for odd in ("²", "①", "١٠", "10.5", "1e3"):
        assert "angka bulat dari 2 sampai 50" in (await owner.ask(odd)).body, odd
    for forged in (
        "clm:ok:99999999999999999999999:",
        "svy:1e3:1",
        "team:revoke:-1",
        "bca:stop:18446744073709551616",
    ):
        assert (await owner.press(program, data=forged)).text == world.says(
            "id", "This button is no longer valid."
        ), forged


# 12 -----------------------------------------------------------------------------------------
async def test_a_customer_sees_leaves_and_erases_their_data(world: World, owner: TelegramUser) -> None:
    barista, customer, code = await _counter(
        world,
        owner,
        ProgramRules(survey_delay_minutes=1, daily_stamp_cap=0),
        customer=world.user(300, "Ayu", "en", "ayu_k"),
    )
    await _rated_visit(world, barista, customer, code, "⭐")
    await customer.ask("Too cold")

    await customer.send("/mydata")
    document = await customer.next_message()
    data = json.loads(document.document)  # type: ignore[arg-type]
    assert data["person"]["first_name"] == "Ayu" and data["person"]["username"] == "ayu_k"
    assert [entry["reason"] for entry in data["ledger"]] == ["purchase"]
    assert data["surveys"][0]["comment"] == "Too cold" and data["cards"][0]["shop"] == "Kopi Senja"

    warning = await customer.ask("/forget")
    await customer.press(warning, "Confirm")
    assert "erased" in (await customer.until(lambda: warning if "erased" in warning.body else None)).body
    (members, ledger), _ready = await world.export(owner)
    assert members.body == "Anggota: 0" and b"Ayu" not in members.document and b"ayu_k" not in ledger.document  # type: ignore[operator]
    assert _ledger_sums(ledger.document) == {"stempel": 0}  # the purchase and its giving-up, anonymous
    assert "Too cold" not in (await owner.ask("/feedback")).body
    assert (await barista.ask(code)).body == UNKNOWN
    # Writing again is a fresh start.
    assert "not joined" in (await customer.ask("/card")).body


def _ledger_sums(document: bytes | None) -> dict[str, int]:
    totals: dict[str, int] = {}
    for row in csv.DictReader(io.StringIO((document or b"").decode("utf-8-sig"))):
        totals[row["Jenis"]] = totals.get(row["Jenis"], 0) + int(row["Perubahan"])
    return totals


async def test_leaving_one_shop_and_opting_out_per_shop(world: World, owner: TelegramUser) -> None:
    first = await world.create_shop()
    rival = en(world, 110, "Joko")
    second = await world.create_shop("Barber Jaya", owner_id=rival.id)
    customer = en(world, 300, "Ayu")
    await world.join(customer, first)
    assert "Kopi Senja" in (await customer.ask("/stop")).body
    await world.join(customer, second)  # opening another shop's link opts in to that shop only
    await owner.ask("/broadcast")
    assert "Semua anggota (0)" in [b["text"] for b in (await owner.ask("Promo")).buttons()]
    await rival.ask("/broadcast")
    assert "Everyone (1)" in [b["text"] for b in (await rival.ask("Promo")).buttons()]

    warning = await customer.ask("/leave")
    assert "Barber Jaya" in warning.body
    await customer.press(warning, "Confirm")
    await customer.until(lambda: "You left" in warning.body)
    assert "Kopi Senja" in await _card(world, customer)  # still a member of the first shop
    (members, _ledger), _ready = await world.export(rival)
    assert members.body == "Members: 0"


# 14 -----------------------------------------------------------------------------------------
async def test_a_telegram_error_after_the_commit_loses_no_news(world: World, owner: TelegramUser) -> None:
    barista, customer, code = await _counter(world, owner, ProgramRules(stamps_required=2, daily_stamp_cap=0))
    prompt = await barista.ask(f"/stamp {code} 2")
    world.emulator.fail(
        "sendPhoto", 429, "Too Many Requests: retry after 5", chat_id=customer.id, retry_after=5
    )
    world.emulator.fail(
        "editMessageText",
        400,
        "Bad Request: query is too old and response timeout expired",
        chat_id=barista.id,
    )
    world.refusals_expected = True
    assert (await barista.press(prompt, "Confirm")).text == "Confirmed."
    await world.emulator.wait_for(
        lambda: not world.emulator.failures
    )  # the card hit the 429, the prompt's edit failed
    assert (await world.deliver()).sent == 0 and customer.unread() == []  # waits out the 429
    world.clock.advance(seconds=6)
    assert (await world.deliver()).sent == 2
    card, reward = await customer.next_message(), await customer.next_message()
    assert "2/2" not in (card.caption or "") and "+2" in (card.caption or "")
    assert code_in(reward.body)


# 15 -----------------------------------------------------------------------------------------
async def test_lowering_stamps_required_caps_cards_after_the_owner_agrees(
    world: World, owner: TelegramUser
) -> None:
    barista, customer, code = await _counter(
        world, owner, ProgramRules(stamps_required=50, daily_stamp_cap=0)
    )
    for _ in range(2):
        await barista.press(await barista.ask(f"/stamp {code} 20"), "Confirm")
        await customer.next_message()
    program = await owner.ask("/program")
    await owner.press(program, "🎯 Stempel")
    question = await owner.ask("2")
    assert "1 kartu pelanggan berisi 2 stempel atau lebih" in question.body and "1 stempel" in question.body
    assert "40/50" in await _card(world, customer)  # nothing changed yet
    await owner.press(question, "Konfirmasi")
    await owner.until(
        lambda: program.body.startswith("✅ Tersimpan: Stempel untuk satu hadiah sekarang <b>2</b>.")
    )
    assert question.body == world.says("id", "Saved.")
    assert "1/2" in await _card(world, customer)
    assert (await _ledger_balance(world))["stamp"] == 1  # the ledger says so too
    # One purchase now fills one card: no flood of rewards.
    await barista.press(await barista.ask(code), "Confirm")
    await customer.next_message()  # the full card
    await customer.next_message()  # its reward
    assert len((await customer.ask("/rewards")).body.split("Code:")) == 2


async def test_one_confirmation_fills_at_most_five_cards(world: World, owner: TelegramUser) -> None:
    barista, customer, code = await _counter(
        world, owner, ProgramRules(stamps_required=2, stamps_per_purchase=10, daily_stamp_cap=0)
    )
    assert (
        await barista.ask(f"/stamp {code} 20")
    ).body == "That would fill more than 5 cards at once. Please confirm fewer purchases at a time."
    await barista.press(await barista.ask(f"/stamp {code} 1"), "Confirm")
    assert (
        len([m for m in [await customer.next_message() for _ in range(6)] if "Show this code" in m.body]) == 5
    )


# 16 -----------------------------------------------------------------------------------------
async def test_stale_forms_do_not_eat_later_messages(world: World, owner: TelegramUser) -> None:
    payload = await world.create_shop(rules=ProgramRules(survey_delay_minutes=1, daily_stamp_cap=0))
    customer = en(world, 300, "Ayu")
    code = await world.join(customer, payload)
    program = await owner.ask("/program")
    await owner.press(program, "🎁 Hadiah")
    world.clock.advance(days=3)
    expired = await owner.ask(code)
    assert "sudah kedaluwarsa" in expired.body
    assert "Ayu" in (await owner.next_message()).body  # the code opened a purchase prompt
    assert "1 free drink" in (await owner.ask("/program")).body

    # A code typed straight into a fresh form: the bot asks which was meant.
    await owner.press(await owner.ask("/program"), "🎁 Hadiah")
    question = await owner.ask(code)
    assert "kelihatannya kode" in question.body
    await owner.press(question, "Itu kode")
    assert "Ayu" in (await owner.next_message()).body
    assert "1 free drink" in (await owner.ask("/program")).body

    # A rating's comment is taken the same day, not a month later.
    prompt = await owner.ask(code)
    await owner.press(prompt, "Konfirmasi")
    await customer.next_message()
    world.clock.advance(minutes=2)
    await world.deliver()
    survey = await customer.next_message()
    await customer.press(survey, "5 ⭐")
    await customer.until(lambda: survey.edits)  # the bot asks for a comment
    customer.mark_read()
    world.clock.advance(days=30)
    assert "expired" in (await customer.ask("Do you open on Sundays?")).body
    assert "Sundays" not in (await owner.ask("/feedback")).body
