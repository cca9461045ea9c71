"""Owners read their numbers: /stats with a chart, /export as CSV files that match the ledger."""

from __future__ import annotations

import asyncio
import csv
import io
import re
import zipfile
from datetime import timedelta
from typing import Any

import pytest
from PIL import Image

from kartu.loyalty.program import ProgramRules
from kartu.sandbox import TelegramUser
from tests.e2e.world import World


async def _visit(
    world: World, barista: TelegramUser, customer: TelegramUser, code: str, purchases: int = 1
) -> None:
    prompt = await barista.ask(f"/stamp {code} {purchases}")
    assert (await barista.press(prompt, "Confirm")).text == "Confirmed."
    await customer.next_message()  # the new card


async def _shop_with_history(
    world: World, owner: TelegramUser, barista: TelegramUser
) -> tuple[TelegramUser, ...]:
    """Hand-built data: Ayu visits 3 times (5 weeks ago, 2 weeks ago, today), Dewi twice this week, Rina joins only."""
    payload = await world.create_shop(
        rules=ProgramRules(stamps_required=3, daily_stamp_cap=0, survey_every_days=0)
    )
    await world.hire(owner, barista)
    ayu, dewi, rina = (
        world.user(300, "Ayu", "id"),
        world.user(301, "Dewi", "en"),
        world.user(302, "Rina", "en"),
    )
    start = world.clock.now()
    world.clock.set(start - timedelta(weeks=5))
    ayu_code = await world.join(ayu, payload)
    await _visit(world, barista, ayu, ayu_code)
    world.clock.set(start - timedelta(weeks=2))
    await _visit(world, barista, ayu, ayu_code)
    world.clock.set(start)
    await _visit(world, barista, ayu, ayu_code)  # third stamp: a reward
    await ayu.next_message()
    dewi_code = await world.join(dewi, payload)
    await _visit(world, barista, dewi, dewi_code)
    await _visit(world, barista, dewi, dewi_code)
    await world.join(rina, payload)
    return ayu, dewi, rina


async def test_stats_match_hand_built_data(world: World, owner: TelegramUser, barista: TelegramUser) -> None:
    await _shop_with_history(world, owner, barista)
    await owner.send("/stats")
    numbers = await owner.next_message()
    chart = await owner.next_message()
    assert "Anggota: <b>3</b> (2 baru minggu ini)" in numbers.body
    assert "Aktif 30 hari terakhir: <b>2</b>" in numbers.body
    assert "Datang lagi (2+ kunjungan): <b>67%</b>" in numbers.body  # Ayu and Dewi of 3 members
    assert "Kunjungan per anggota: <b>1,7</b>" in numbers.body  # 5 visits / 3 members
    assert "Hadiah: 1 diberikan, 0 ditukar (0%)" in numbers.body

    assert chart.photo is not None and len(chart.photo) > 10_000
    image = Image.open(io.BytesIO(chart.photo))
    assert image.size == (800, 450)
    colours = image.convert("RGB").getcolors(maxcolors=1_000_000) or []
    bar_pixels = sum(count for count, colour in colours if colour in {(196, 98, 45), (60, 42, 33)})
    assert bar_pixels > 2_000  # the bars are drawn, not an empty frame


async def test_export_parses_back_and_matches_the_ledger(
    world: World, owner: TelegramUser, barista: TelegramUser
) -> None:
    await _shop_with_history(world, owner, barista)
    (members_file, ledger_file), ready = await world.export(owner)
    assert ready.body == "✅ Ekspor siap: 3 anggota, 7 catatan transaksi."
    assert members_file.document_name == "kopi-senja-members.csv" and members_file.body == "Anggota: 3"
    assert members_file.document is not None and members_file.document.startswith("\ufeff".encode())

    members = list(csv.DictReader(io.StringIO(members_file.document.decode("utf-8-sig"))))
    # Headers in the owner's language (Sari reads Indonesian), codes as customers see them.
    assert list(members[0]) == [
        "Nama",
        "Username Telegram",
        "Kode",
        "Bergabung",
        "Stempel",
        "Kunjungan",
        "Kunjungan terakhir",
        "Terima promo",
        "Hadiah belum dipakai",
        "Poin",
        "Level",
        "Diajak oleh",
        "Bergabung di outlet",
        "Terakhir datang di outlet",
    ]
    assert [(m["Nama"], m["Kunjungan"], m["Stempel"], m["Terima promo"]) for m in members] == [
        ("Ayu", "3", "0", "ya"),
        ("Dewi", "2", "2", "ya"),
        ("Rina", "0", "0", "ya"),
    ]
    assert members[0]["Hadiah belum dipakai"] == "1" and members[2]["Kunjungan terakhir"] == ""
    assert all(re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}", m["Kode"]) for m in members)

    assert ledger_file.document is not None
    rows = list(csv.DictReader(io.StringIO(ledger_file.document.decode("utf-8-sig"))))
    async with world.app.db.read() as uow:
        entries = await uow.ledger.entries(1)
    reasons = {
        "purchase": "belanja",
        "reward_issued": "kartu penuh, hadiah diberikan",
        "reward_redeemed": "hadiah ditukar",
    }
    assert [(int(r["No."]), int(r["Perubahan"]), r["Keterangan"]) for r in rows] == [
        (e.id, e.delta, reasons[e.reason]) for e in entries
    ]
    assert {r["Staf"] for r in rows} == {"Budi"}
    assert not any(
        "idempotency" in header.lower() or "key" in header.lower() for header in rows[0]
    )  # internal columns stay out


async def test_reports_are_for_owners_only(world: World, owner: TelegramUser, barista: TelegramUser) -> None:
    await world.create_shop()
    await world.hire(owner, barista)
    assert (await barista.ask("/stats")).body == "Only the shop owner can do that."
    assert (await barista.ask("/export")).body == "Only the shop owner can do that."
    await owner.send("/stats")
    numbers = await owner.next_message()  # "⏳ Menghitung…" at once, then the numbers in its place
    await owner.until(lambda: numbers.edits)
    assert "Anggota: <b>0</b>" in numbers.body
    assert (await owner.next_message()).photo is not None  # an empty chart still renders


async def test_a_big_export_comes_zipped_with_a_link_and_asking_again_meanwhile_is_told_to_wait(
    world: World, owner: TelegramUser, barista: TelegramUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _shop_with_history(world, owner, barista)
    monkeypatch.setattr("kartu.handlers.owner.PART_LIMIT", 500)  # Telegram's 50 MB, in small
    monkeypatch.setattr("kartu.services.exports.PAGE", 2)
    world.app.settings.api_public_url = "https://kartu.example"
    exports = world.app.services.exports
    gate, write = asyncio.Event(), exports.write

    async def held(*args: Any) -> Any:
        await gate.wait()  # a big shop's pages take minutes
        return await write(*args)

    monkeypatch.setattr(exports, "write", held)
    question = await owner.ask("/export")
    assert [button["text"] for button in question.buttons()] == ["3 bulan terakhir", "Tahun ini", "Semua"]
    everything = question.buttons()[2]["callback_data"]
    await owner.press(question, "3 bulan terakhir")
    await owner.until(lambda: question.body.startswith("⏳ Menyiapkan ekspor (3 bulan terakhir)"))
    again = await owner.ask("/export")  # the chat is free meanwhile
    assert again.body.startswith("⏳ Ekspor toko Anda sedang disiapkan") and not again.buttons()
    late_tap = await owner.press(question, data=everything)  # a second tap, before the edit showed
    assert late_tap.text is not None and late_tap.text.startswith("⏳ Ekspor toko Anda sedang disiapkan")
    gate.set()

    members, ledger = await owner.next_message(timeout=30), await owner.next_message(timeout=30)
    assert members.document_name == "kopi-senja-members.csv"
    assert ledger.document_name == "kopi-senja-ledger-1.zip" and ledger.document is not None
    assert re.fullmatch(r"Catatan transaksi sejak \d+ \w+ \d{4}: 7", ledger.body), ledger.body
    with zipfile.ZipFile(io.BytesIO(ledger.document)) as archive:
        rows = list(csv.reader(io.StringIO(archive.read("kopi-senja-ledger-1.csv").decode("utf-8-sig"))))
    assert rows[0][0] == "No." and len(rows) == 8
    ready = await owner.next_message()
    assert ready.body.startswith("✅ Ekspor siap: 3 anggota, 7 catatan transaksi.")
    assert "Telegram menerima file hingga 50 MB" in ready.body
    assert re.search(r"https://kartu\.example/v1/exports/\d+\.\d+\.[\w-]+", ready.body), ready.body
    metrics = world.app.services.health.metrics.registry
    assert metrics.get_sample_value("kartu_exports_total", {"outcome": "done"}) == 1
    assert metrics.get_sample_value("kartu_exports_total", {"outcome": "link"}) == 1
    assert metrics.get_sample_value("kartu_export_seconds_count") == 1
