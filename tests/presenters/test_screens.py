"""Presenters in-process: what each screen says and which buttons it has, in both languages,
from plain views (no bot, no database; a few milliseconds each)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime

from kartu.bot.i18n import load_i18n
from kartu.loyalty.errors import DailyCapReached
from kartu.presenters.callbacks import Decision, PurchaseAction, SaleAction
from kartu.presenters.customer import card_caption, leave_question, progress_line
from kartu.presenters.menus import commands_for, help_for, keyboard_for
from kartu.presenters.owner import program_text, setting_value, stats_text
from kartu.presenters.points import sale_prompt_text
from kartu.presenters.refusals import explain
from kartu.presenters.staff import prompt_text
from kartu.services.counter import PurchasePromptView, SalePromptView
from kartu.services.customers import LeavePreview
from kartu.services.merchants import ProgramView
from kartu.services.reports import StatsView
from kartu.services.views import Audience, CardView, MenuView

PROGRAM = ProgramView("Kopi Senja", 10, "1 minuman gratis", 1, 0, 180, 30, "7,1", 120, 14, "21:00-08:00")
CARD = CardView("Kopi Senja", 7, 10, "1 free drink", "K7Q29XHM", 2, "Asia/Jakarta")


@contextmanager
def reading(language: str) -> Iterator[None]:
    i18n = load_i18n()
    with i18n.context(), i18n.use_locale(language):
        yield


def test_the_program_reads_as_an_owner_would_in_both_languages() -> None:
    with reading("en"):
        assert setting_value(PROGRAM, "stamp_expiry_days") == "after 180 days without a visit"
        assert setting_value(PROGRAM, "reminder_days") == "7 and 1 days before"
        assert setting_value(PROGRAM, "daily_stamp_cap") == "no limit"
        text, markup = program_text(PROGRAM)
    assert [len(row) for row in markup.inline_keyboard] == [1, 2, 2, 2, 1, 2, 2, 1, 2, 1]
    assert all(len(button.text) <= 20 for row in markup.inline_keyboard for button in row)
    assert "Runs: <b>🎟 Stamps only</b>" in text and "Points" not in text
    with reading("id"):
        assert setting_value(PROGRAM, "reminder_days") == "7 dan 1 hari sebelumnya"
        assert setting_value(PROGRAM, "quiet_hours") == "21:00–08:00"


def test_a_points_program_shows_its_settings_as_rupiah() -> None:
    points_only = replace(PROGRAM, stamps_enabled=False, points_enabled=True, points_minimum_spend=20_000)
    for language in ("en", "id"):
        with reading(language):
            text, markup = program_text(points_only)
        assert all(len(button.text) <= 20 for row in markup.inline_keyboard for button in row)
        assert "🎯" not in str(markup.inline_keyboard)  # stamps' own settings are out of the way
    with reading("id"):
        text, _ = program_text(points_only)
        assert setting_value(points_only, "rupiah_per_point") == "1 poin tiap Rp 10.000"
        assert setting_value(points_only, "points_expiry_months") == "12 bulan setelah didapat"
    assert (
        "Berjalan: <b>⭐ Poin saja</b>" in text and "• Belanja minimum untuk poin: <b>Rp 20.000</b>" in text
    )


def test_the_sale_prompt_shows_the_amount_and_the_points_before_confirm() -> None:
    prompt = SalePromptView(
        token="t" * 22,
        merchant_name="Kopi Senja",
        customer_first_name="Ayu <3",
        amount=125_000,
        points=12,
        balance=1_040,
        stamps_to_add=1,
        stamps=3,
        stamps_required=10,
        timezone="Asia/Jakarta",
    )
    with reading("id"):
        text, markup = sale_prompt_text(prompt, "id")
    assert text.split("\n") == [
        "🏪 <b>Kopi Senja</b>",
        "👤 <b>Ayu &lt;3</b> · kunjungan pertama",
        "<b>Rp 125.000 → 12 poin</b> (sekarang punya 1.040)",
        "Plus 1 stempel: sekarang 3/10.",
    ]
    confirm = SaleAction.unpack(markup.inline_keyboard[0][0].callback_data or "")
    assert confirm.action is Decision.CONFIRM and confirm.token == "t" * 22


def test_the_staff_prompt_tells_who_and_what() -> None:
    prompt = PurchasePromptView(
        token="t" * 22,
        merchant_name="Kopi Senja",
        customer_first_name="Ayu",
        stamps=3,
        stamps_required=10,
        stamps_to_add=1,
        purchases=1,
        customer_username="ayu_k",
        last_visit=datetime(2026, 1, 5, 3, tzinfo=UTC),
        open_rewards=2,
        timezone="Asia/Jakarta",
    )
    with reading("en"):
        text, markup = prompt_text(prompt, "en")
    assert text.split("\n") == [
        "🏪 <b>Kopi Senja</b>",
        "👤 <b>Ayu</b> @ayu_k · last visit 5 Jan 2026",
        "Ayu has 3/10 stamps.",
        "Add 1 stamp for 1 purchase?",
        "🎁 Ayu has 2 rewards waiting: ask for the reward code to redeem them.",
    ]
    confirm = PurchaseAction.unpack(markup.inline_keyboard[0][0].callback_data or "")
    assert confirm.action is Decision.CONFIRM and confirm.token == "t" * 22


def test_numbers_and_plurals_in_the_customers_language() -> None:
    with reading("id"):
        assert progress_line(CARD) == "7/10 — 3 lagi dapat 1 free drink"
        assert "🎁 Kamu punya 2 hadiah yang bisa dipakai: /rewards" in card_caption(CARD, "id")
        text = leave_question(LeavePreview(1, "Kopi Senja", 1234, 1)).text
        assert "1.234 stempelmu dan 1 hadiah yang belum dipakai" in text
    with reading("en"):
        text = leave_question(LeavePreview(1, "Kopi Senja", 1, 2)).text
        assert "Your 1 stamp and 2 unused rewards" in text


def test_stats_use_the_readers_decimal_comma() -> None:
    stats = StatsView("Kopi Senja", "Asia/Jakarta", 1234, 12, 300, 0.667, 1.75, 40, 10, 4.5, 8, (), ())
    with reading("id"):
        text = stats_text(stats)
    assert "Anggota: <b>1.234</b> (12 baru minggu ini)" in text and "<b>67%</b>" in text
    assert "Kunjungan per anggota: <b>1,8</b>" in text and "4,5/5 dari 8 penilaian" in text


def test_each_role_has_its_own_keyboard_and_commands() -> None:
    with reading("en"):
        owner = MenuView(Audience.OWNER, has_card=True, works_somewhere=True)
        labels = [button.text for row in keyboard_for(owner).keyboard for button in row]
        assert labels[-1] == "🎟 My cards (customer)" and "🔗 Join link & QR" in labels
        assert [command.command for command in commands_for(owner)][:3] == ["link", "program", "staff"]
        customer = MenuView(Audience.CUSTOMER, has_card=True, works_somewhere=False)
        assert "stamp" not in [command.command for command in commands_for(customer)]
        assert help_for(customer).startswith("<b>Your loyalty card in Telegram</b>")


def test_the_daily_limit_is_explained_to_staff() -> None:
    refusal = DailyCapReached(remaining=1, cap=3, customer_first_name="Ayu")
    with reading("en"):
        assert (
            explain(refusal)
            == "Nothing was added: Ayu can get only 1 more stamp today (daily limit 3). Confirm fewer purchases."
        )
    with reading("id"):
        assert explain(refusal).startswith("Tidak ditambahkan: hari ini Ayu hanya bisa dapat 1 stempel lagi")
