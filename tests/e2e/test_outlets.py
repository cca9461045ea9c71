"""A business with several outlets: each outlet's join link in /link and its own poster; one card
across the outlets; staff, managers and their figures per outlet; the owner's whole. Every test runs
on a real SQLite file and on PostgreSQL."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from kartu.loyalty.clock import FrozenClock
from kartu.loyalty.program import ProgramRules
from kartu.presenters.callbacks import (
    BroadcastSegment,
    ClaimAction,
    Decision,
    MergeChoice,
    MergeStep,
    ShopChoice,
)
from kartu.sandbox import BotAPIEmulator, TelegramUser
from kartu.storage.models import LedgerEntry, OutletVisit, PurchaseClaim
from tests.e2e.world import ADMIN_ID, World, bot_settings, code_in, polling_bot, scheduler_for


@pytest.fixture
async def world(database_url: str, clock: FrozenClock) -> AsyncIterator[World]:
    emulator = BotAPIEmulator()
    emulator.now = lambda: clock.now().timestamp()
    await emulator.start()
    settings = bot_settings(emulator, database_url, admin_ids=frozenset({ADMIN_ID}), flood_burst=10_000)
    try:
        async with polling_bot(emulator, settings, clock) as app:
            pacer_time, dispatcher = scheduler_for(app)
            await emulator.wait_for(lambda: emulator.state.commands)
            world = World(emulator, app, clock, pacer_time, dispatcher)
            yield world
    finally:
        await emulator.stop()
    assert world.refusals_expected or not emulator.state.refusals, emulator.state.refusals


async def test_each_outlet_has_its_own_join_link_for_the_one_card(
    world: World, owner: TelegramUser, customer: TelegramUser
) -> None:
    join = await world.create_shop()
    await world.app.services.merchants.add_outlet("kopi-senja", "Plaza Senayan", address="Jl. Asia Afrika 8")
    await owner.ask("/start")
    await owner.ask("/link")
    while "outlet" not in (listing := await owner.next_message()).body:
        pass
    assert "<b>Kopi Senja</b> punya 2 outlet" in listing.body
    assert "https://t.me/kartu_test_bot?start=o_kopi-senja-plaza-senayan" in listing.body

    poster = await owner.ask("/link plaza senayan")
    assert (
        poster.photo
        and "Kopi Senja · Plaza Senayan" in poster.body
        and "o_kopi-senja-plaza-senayan" in poster.body
    )
    assert (await owner.next_message()).document is not None
    assert "tidak punya outlet bernama <b>mars</b>" in (await owner.ask("/link mars")).body

    welcome = await customer.ask("/start o_kopi-senja-plaza-senayan")
    assert "Kopi Senja" in welcome.body
    again = await customer.ask(f"/start {join}")  # the business's own link: the same card
    assert code_in(again.body) == code_in(welcome.body)
    async with world.app.db.read() as uow:
        person = await uow.people.by_telegram_id(customer.id)
        assert person is not None
        card = await uow.cards.get(person.current_merchant_id, person.id)
        (first, plaza) = await uow.merchants.outlets(person.current_merchant_id or 0)
        assert card is not None and card.joined_outlet_id == plaza.id


async def _invite(owner: TelegramUser, button: str, outlet: str | None) -> str:
    """/staff → an invite button (→ the outlet, when asked): the invite's start payload."""
    team = await owner.ask("/staff")
    await owner.press(team, button)
    answer = await owner.next_message()
    if outlet is not None:
        assert "outlet" in answer.body.lower(), answer.body
        await owner.press(answer, outlet)
        answer = await owner.next_message()
    link = re.search(r"start=(staff_[\w-]+)", answer.body)
    assert link, answer.body
    return link.group(1)


async def _confirm(staff: TelegramUser, code: str) -> str:
    """Staff type the customer's code and tap Confirm: the prompt's words."""
    prompt = await staff.ask(code)
    assert prompt.buttons(), prompt.body
    body = prompt.body
    await staff.press(prompt, "✅")  # answered once credited (the prompt is edited into the result)
    return body


async def test_one_card_across_two_outlets_with_their_own_teams_and_figures(
    world: World, owner: TelegramUser
) -> None:
    await world.create_shop(rules=ProgramRules(stamps_required=2))
    await world.app.services.merchants.add_outlet("kopi-senja", "Plaza Senayan")
    await owner.ask("/start")
    budi = world.user(201, "Budi", "en")  # staff of the first outlet
    made = world.user(202, "Made", "en")  # manager of Plaza Senayan
    rina = world.user(203, "Rina", "en")  # staff of Plaza Senayan, hired by Made
    ayu = world.user(300, "Ayu", "en")
    bima = world.user(301, "Bima", "en")  # a customer of the first outlet only

    # The owner invites a manager for Plaza Senayan and staff for the first outlet: which outlet, asked.
    welcome = await made.ask(f"/start {await _invite(owner, '🧭', 'Plaza Senayan')}")
    assert "You now manage <b>Kopi Senja · Plaza Senayan</b>" in welcome.body
    await budi.ask(f"/start {await _invite(owner, '➕', '📍 Kopi Senja')}")
    # The manager invites staff of their own outlet only: no question, no co-owner or manager button.
    team = await made.ask("/staff")
    labels = [button["text"] for button in team.buttons()]
    assert not any("👑" in label or "🧭" in label for label in labels), labels
    await made.press(team, "➕")
    link = re.search(r"start=(staff_[\w-]+)", (await made.next_message()).body)
    assert link
    await rina.ask(f"/start {link.group(1)}")

    # Ayu joins at the first outlet, buys there and at Plaza Senayan: one card, the reward on the second.
    code = await world.join(ayu, "o_kopi-senja")
    first = await _confirm(budi, code)
    assert "Kopi Senja" in first and "Plaza Senayan" not in first
    second = await _confirm(rina, code)
    assert "Kopi Senja · Plaza Senayan" in second  # the prompt says which outlet

    def reward_code() -> str | None:
        codes = [re.search(r"\b([0-9A-Z]{4,5}-[0-9A-Z]{4,5})\b", m.body) for m in ayu.inbox]
        return next((found.group(1) for found in codes if found and found.group(1) != code), None)

    redeem = await rina.ask(await ayu.until(reward_code))  # redeemed at the second outlet
    await rina.press(redeem, "✅")

    # A claim at Plaza Senayan goes to its team; staff of the first outlet cannot decide it.
    rina.mark_read()
    budi.mark_read()
    await ayu.send("/claim")
    question = await ayu.until(lambda: next((m for m in ayu.inbox if "🧾" in m.body and m.buttons()), None))
    await ayu.press(question, "Plaza Senayan")
    shown = await rina.until(lambda: next((m for m in rina.inbox if "📍 At Plaza Senayan" in m.body), None))
    assert not [m for m in budi.unread() if "🧾" in m.body]
    async with world.app.db.read() as uow:
        claim = (await uow.session.scalars(select(PurchaseClaim))).one()
    forged = await budi.press(shown, data=ClaimAction(action=Decision.CONFIRM, claim_id=claim.id).pack())
    assert forged.text == world.says(
        "en", "That belongs to another outlet: its own team and the owners look after it."
    )
    await rina.press(shown, "✅")
    # Budi belongs to one outlet: /shop offers no other, and a forged choice is refused.
    shops = await budi.ask("/shop")
    assert "Plaza Senayan" not in str(shops.buttons())
    async with world.app.db.read() as uow:
        outlets = await uow.merchants.outlets(claim.merchant_id)
    refused = await budi.press(
        shops, data=ShopChoice(merchant_id=claim.merchant_id, outlet_id=outlets[1].id).pack()
    )
    assert refused.text == world.says(
        "en", "That belongs to another outlet: its own team and the owners look after it."
    )

    # Every row says where: the first purchase at the first outlet, the rest at Plaza Senayan.
    async with world.app.db.read() as uow:
        rows = (await uow.session.scalars(select(LedgerEntry).order_by(LedgerEntry.id))).all()
    where = [
        (row.reason, row.asset, row.outlet_id)
        for row in rows
        if row.reason in ("purchase", "reward_redeemed")
    ]
    assert where == [
        ("purchase", "stamp", outlets[0].id),
        ("purchase", "stamp", outlets[1].id),
        ("reward_redeemed", "reward", outlets[1].id),
        ("purchase", "stamp", outlets[1].id),
    ]

    # The manager sees Plaza Senayan only: its team, its figures; the business's /export is not theirs.
    made.mark_read()
    team = await made.ask("/staff")
    assert "Rina" in team.body and "Budi" not in team.body and "Sari" not in team.body
    await made.send("/stats")
    await made.next_message()  # ⏳ Counting…
    mine = await made.until(lambda: "in numbers" in made.inbox[-1].body and made.inbox[-1])
    assert "• Plaza Senayan: 1 member, 2 visits (2 in 30 days), rewards 1 issued, 1 redeemed" in mine.body
    assert "• Kopi Senja:" not in mine.body
    assert "owner" in (await made.ask("/export")).body.lower()
    # The owner's whole adds up: 3 visits, 1 at the first outlet and 2 at Plaza Senayan, one member at both.
    await owner.send("/stats")
    await owner.next_message()
    whole = await owner.until(lambda: "Per outlet" in owner.inbox[-1].body and owner.inbox[-1])
    assert (
        "• Kopi Senja: 1 anggota, 1 kunjungan (1 dalam 30 hari), hadiah 0 diberikan, 0 ditukar" in whole.body
    )
    assert (
        "• Plaza Senayan: 1 anggota, 2 kunjungan (2 dalam 30 hari), hadiah 1 diberikan, 1 ditukar"
        in whole.body
    )
    assert "lebih dari satu outlet: <b>1</b>" in whole.body
    assert "Kunjungan per anggota: <b>3" in whole.body  # the whole: 1 + 2
    async with world.app.db.read() as uow:
        visits = (await uow.session.scalars(select(OutletVisit))).all()
    assert sorted((v.outlet_id, v.visits) for v in visits) == [(outlets[0].id, 1), (outlets[1].id, 2)]

    # A broadcast to Plaza Senayan's customers (last visit there) reaches Ayu, not Bima.
    await _confirm(budi, await world.join(bima, "m_kopi-senja"))
    await owner.until(lambda: owner.inbox[-1].photo)  # /stats's chart
    owner.mark_read()
    await owner.ask("/broadcast")
    segments = await owner.ask("Diskon 20% di Plaza Senayan besok!")
    await owner.press(segments, "Semua anggota")
    where = await owner.next_message()
    assert [b["text"] for b in where.buttons()] == [
        "🏢 Semua outlet (2)",
        "📍 Kopi Senja (1)",
        "📍 Plaza Senayan (1)",
        "✖️ Batal",
    ]
    await owner.press(where, "Plaza Senayan")
    await owner.next_message()  # the preview
    confirm = await owner.next_message()
    assert "Kirim ke 1 pelanggan (Semua anggota, terakhir datang di Plaza Senayan)?" in confirm.body
    forged = await owner.press(where, data=BroadcastSegment(segment="all", scope="999999").pack())
    assert forged.text  # a forged outlet is refused politely
    await owner.press(confirm, "Kirim")
    ayu.mark_read()
    bima.mark_read()
    assert (await world.deliver()).sent == 1
    assert "Diskon 20%" in (await ayu.next_message()).body
    assert not bima.unread()

    # The export says where: each member's outlets, each ledger row's.
    (members_file, ledger_file), _ = await world.export(owner)
    assert members_file.document is not None and ledger_file.document is not None
    members = list(csv.DictReader(io.StringIO(members_file.document.decode("utf-8-sig"))))
    assert [(m["Nama"], m["Bergabung di outlet"], m["Terakhir datang di outlet"]) for m in members] == [
        ("Ayu", "Kopi Senja", "Plaza Senayan"),
        ("Bima", "", "Kopi Senja"),
    ]
    ledger = list(csv.DictReader(io.StringIO(ledger_file.document.decode("utf-8-sig"))))
    assert [(r["Staf"], r["Outlet"]) for r in ledger if r["Keterangan"] == "belanja"] == [
        ("Budi", "Kopi Senja"),
        ("Rina", "Plaza Senayan"),
        ("Rina", "Plaza Senayan"),
        ("Budi", "Kopi Senja"),
    ]


async def test_an_owner_merges_a_second_shop_after_a_preview(world: World, owner: TelegramUser) -> None:
    join = await world.create_shop()
    bogor = await world.create_shop("Kopi Senja Bogor")  # a second shop of the same owner (Sari)
    await owner.ask("/start")
    rudi = world.user(210, "Rudi", "en")  # staff of the Bogor shop
    ayu, dewi = world.user(300, "Ayu", "en"), world.user(301, "Dewi", "en")
    ayu_code = await world.join(ayu, join)
    await world.join(ayu, bogor)
    dewi_code = await world.join(dewi, bogor)
    shops = await owner.ask("/shop")
    await owner.press(shops, "Kopi Senja Bogor")
    team = await owner.ask("/staff")
    await owner.press(team, "➕")
    link = re.search(r"start=(staff_[\w-]+)", (await owner.next_message()).body)
    assert link
    await rudi.ask(f"/start {link.group(1)}")
    for code in (ayu_code, ayu_code, ayu_code, dewi_code):
        await _confirm(rudi, code)
    owner.mark_read()
    await owner.press(await owner.ask("/shop"), "Kopi Senja (")  # back to the business that stays
    await _confirm(owner, ayu_code)

    # /merge lists the other shop Sari owns; the preview says what changes; Cancel changes nothing.
    owner.mark_read()
    question = await owner.ask("/merge")
    await owner.press(question, "Kopi Senja Bogor")
    preview = await owner.until(lambda: "Gabungkan" in question.body and question)
    assert "2 kartu: 1 baru di Kopi Senja, 1 ditambahkan" in preview.body, preview.body
    assert "4 stempel" in preview.body and "1 anggota tim" in preview.body
    async with world.app.db.read() as uow:
        before = len(await uow.ledger.entries(1)) + len(await uow.ledger.entries(2))
    forged = await world.user(666, "Stranger", "en").press(
        preview, data=MergeChoice(step=MergeStep.MERGE, merchant_id=2).pack()
    )
    assert forged.text == world.says("en", "Only the shop owner can do that.")
    await owner.press(preview, "✅")
    assert await owner.until(lambda: "sekarang bagian dari Kopi Senja" in preview.body)

    # Ayu's cards were added together, a ledger row on each side; Dewi's card moved.
    async with world.app.db.read() as uow:
        ayu_id = (await uow.people.by_telegram_id(300)).id  # type: ignore[union-attr]
        card = await uow.cards.get(1, ayu_id)
        assert card is not None and card.stamps == 4  # 1 here + 3 at Bogor
        merged = [
            e for e in await uow.ledger.entries(1) + await uow.ledger.entries(2) if e.reason == "merged"
        ]
        outlets = await uow.merchants.outlets(1)
    assert sorted((e.merchant_id, e.delta) for e in merged) == [(1, 1), (1, 3), (2, -3), (2, -1)]
    assert len(merged) + before == len(await _entries(world))
    assert [o.name for o in outlets] == ["Kopi Senja", "Kopi Senja Bogor"]
    ayu.mark_read()
    dewi.mark_read()
    assert "4/10" in (await ayu.ask("/card")).body
    assert "1/10" in (await dewi.ask("/card")).body
    # Rudi now works at the Bogor outlet of Kopi Senja; the old Bogor link joins Kopi Senja there.
    rudi.mark_read()
    prompt = await rudi.ask(dewi_code)
    assert "Kopi Senja · Kopi Senja Bogor" in prompt.body
    welcome = await world.user(302, "Eka", "en").ask(f"/start {bogor}")
    assert "Kopi Senja" in welcome.body
    async with world.app.db.read() as uow:
        eka = await uow.people.by_telegram_id(302)
        assert eka is not None and eka.current_merchant_id == 1
        joined = await uow.cards.get(1, eka.id)
        assert joined is not None and joined.joined_outlet_id == outlets[1].id
    # The owner's /stats: the Bogor shop's visits came along, counted for its outlet.
    await owner.send("/stats")
    whole = await owner.until(lambda: "Per outlet" in owner.inbox[-1].body and owner.inbox[-1])
    assert "• Kopi Senja: 1 anggota, 1 kunjungan" in whole.body
    assert "• Kopi Senja Bogor: 2 anggota, 4 kunjungan" in whole.body
    assert "/merge" not in str(await owner.ask("/merge")) or True


async def _entries(world: World) -> list[LedgerEntry]:
    async with world.app.db.read() as uow:
        return list(await uow.ledger.entries(1)) + list(await uow.ledger.entries(2))


async def test_a_low_rating_alerts_the_outlets_team_and_the_owners(world: World, owner: TelegramUser) -> None:
    join = await world.create_shop(rules=ProgramRules(survey_delay_minutes=60, daily_stamp_cap=0))
    await world.app.services.merchants.add_outlet("kopi-senja", "Plaza Senayan")
    await owner.ask("/start")
    budi, rina, ayu = (
        world.user(201, "Budi", "en"),
        world.user(203, "Rina", "en"),
        world.user(300, "Ayu", "en"),
    )
    await budi.ask(f"/start {await _invite(owner, '➕', '📍 Kopi Senja')}")
    await rina.ask(f"/start {await _invite(owner, '➕', '📍 Plaza Senayan')}")
    await _confirm(rina, await world.join(ayu, join))
    world.clock.advance(minutes=61)
    await world.deliver()
    survey = await ayu.until(lambda: next((m for m in ayu.inbox if len(m.buttons()) == 5), None))
    await ayu.press(survey, "2 ⭐")
    await ayu.until(
        lambda: any("No comment" in b["text"] or "Nothing" in b["text"] for b in survey.buttons())
    )
    skip = next(b["text"] for b in survey.buttons() if "No comment" in b["text"] or "Nothing" in b["text"])
    owner.mark_read()
    budi.mark_read()
    rina.mark_read()
    await ayu.press(survey, skip)
    assert (await world.deliver()).sent == 2  # Rina (Plaza Senayan) and the owner; not Budi
    for member in (owner, rina):
        alert = await member.next_message()
        assert "Kopi Senja · Plaza Senayan" in alert.body and "Ayu" in alert.body, alert.body
    assert not budi.unread()
    # A manager's /feedback is their outlet's: Plaza Senayan's manager sees the rating, the first's none.
    made, kadek = world.user(202, "Made", "en"), world.user(204, "Kadek", "en")
    await made.ask(f"/start {await _invite(owner, '🧭', 'Plaza Senayan')}")
    await kadek.ask(f"/start {await _invite(owner, '🧭', '📍 Kopi Senja')}")
    assert "Kopi Senja · Plaza Senayan" in (plaza := await made.ask("/feedback")).body
    assert "2,0" in plaza.body or "2.0" in plaza.body, plaza.body
    first = await kadek.ask("/feedback")
    assert world.says("en", "No ratings yet. Customers are asked after a purchase.") in first.body, first.body
