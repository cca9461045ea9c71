"""The sandbox page in real Chromium (Debian's `chromium`, installed by `.ci/run`, driven by
Playwright): a newcomer plays owner, staff and a new customer through a whole card.

Screenshots of each step are saved under ``test-artifacts/sandbox/`` (or
``$KARTU_TEST_ARTIFACTS``) for a person to look at."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kartu.sandbox.server import Sandbox
from tests.browser import CHROMIUM, artifacts, needs_chromium

ARTIFACTS = artifacts("sandbox")
playwright = pytest.importorskip("playwright.async_api")
pytestmark = needs_chromium


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[Sandbox]:
    running = Sandbox(tmp_path, port=0)
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
async def browser() -> AsyncIterator[object]:
    async with playwright.async_playwright() as driver:
        launched = await driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            await launched.close()


async def _shot(page: object, name: str) -> None:
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


async def _say(page: object, text: str) -> None:
    await page.fill("#text", text)  # type: ignore[attr-defined]
    await page.press("#text", "Enter")  # type: ignore[attr-defined]


def _bubbles(page: object) -> object:
    return page.locator("#messages .msg.bot")  # type: ignore[attr-defined]


async def _tap(page: object, label: str) -> None:
    await _bubbles(page).last.get_by_role("button", name=label).click()  # type: ignore[attr-defined]


async def _open_chat(page: object, name: str) -> None:
    """Pick a person and wait until their chat is the one shown (so what is typed next is theirs)."""
    await page.click(f'.person:has-text("{name}")')  # type: ignore[attr-defined]
    await page.locator(f'.person.active:has-text("{name}")').wait_for()  # type: ignore[attr-defined]


async def _add_customer(page: object, name: str, language: str, channel: str = "telegram") -> None:
    """The form under the list: a new customer on either messenger, picked once added."""
    await page.fill("#add input[name=name]", name)  # type: ignore[attr-defined]
    await page.select_option("#add select[name=language]", language)  # type: ignore[attr-defined]
    await page.select_option("#add select[name=channel]", channel)  # type: ignore[attr-defined]
    await page.click("#add button")  # type: ignore[attr-defined]
    await page.locator(f'.person.active:has-text("{name}")').wait_for()  # type: ignore[attr-defined]


async def test_a_newcomer_plays_a_whole_card_in_the_browser(sandbox: Sandbox, browser: object) -> None:
    page = await browser.new_page(viewport={"width": 1200, "height": 860})  # type: ignore[attr-defined]
    await page.goto(sandbox.url)
    await page.get_by_text("Sari").first.wait_for()
    assert "Sandbox time" in await page.inner_text("#clock")
    await _shot(page, "01-people")

    # A new customer appears in the list.
    await _add_customer(page, "Dewi", "en")

    # The owner asks for the join link and opens it as Dewi.
    await _open_chat(page, "Sari")
    await _say(page, "/link")
    link = page.locator('#messages a[data-start^="m_"]').last  # the join link, not the staff invite above it
    await link.wait_for()
    await _shot(page, "02-owner-join-link")
    await link.click()
    await page.click('#picker button:has-text("Dewi")')
    welcome = _bubbles(page).filter(has_text="Welcome to Kopi Senja, Dewi")
    await welcome.wait_for()
    code = re.search(r"[0-9A-Z]{4}-[0-9A-Z]{4}", await welcome.inner_text())
    assert code is not None
    await page.get_by_role("button", name="🎟 My card").click()
    await page.locator("#messages .msg.bot img").last.wait_for()
    await _shot(page, "03-customer-card")

    # Staff stamp her card full: three today, three tomorrow (the daily limit is five).
    await _open_chat(page, "Budi")
    for day in range(2):
        await _say(page, f"/stamp {code.group(0)} 3")
        await _bubbles(page).last.get_by_role("button", name="✅ Konfirmasi").wait_for()
        await _tap(page, "✅ Konfirmasi")
        await _bubbles(page).filter(has_text="Tercatat: Dewi").nth(day).wait_for()
        if day == 0:
            await page.click("button[data-step='1d']")
    await _shot(page, "04-staff-confirmed")

    await _open_chat(page, "Dewi")
    await _bubbles(page).filter(has_text="your card is full").wait_for()  # the full card first
    reward = _bubbles(page).filter(has_text="Your reward:")
    await reward.wait_for()
    reward_code = await reward.locator("code").inner_text()
    assert re.fullmatch(r"[0-9A-Z]{5}-[0-9A-Z]{5}", reward_code)
    await _shot(page, "05-customer-reward")

    # Staff redeem it; the customer is told.
    await _open_chat(page, "Budi")
    await _say(page, reward_code)
    await _bubbles(page).last.get_by_role("button", name="✅ Konfirmasi").wait_for()
    await _tap(page, "✅ Konfirmasi")
    await _open_chat(page, "Dewi")
    await _bubbles(page).filter(has_text="Enjoy your").wait_for()

    # A week later the feedback survey is there, with its rating buttons.
    await page.click("button[data-step='7d']")
    survey = _bubbles(page).filter(has_text="How was your visit")
    await survey.wait_for()
    assert await survey.get_by_role("button").count() == 5
    await _shot(page, "06-survey-after-a-week")

    # A reload mid-conversation loses nothing; a second tab follows live.
    before = await page.locator("#messages .msg").evaluate_all("nodes => nodes.map(n => n.dataset.message)")
    await page.reload()
    await page.locator(f'#messages .msg[data-message="{before[-1]}"]').wait_for()
    after = await page.locator("#messages .msg").evaluate_all("nodes => nodes.map(n => n.dataset.message)")
    assert after[: len(before)] == before
    other = await browser.new_page()  # type: ignore[attr-defined]
    await other.goto(sandbox.url + "?lang=id#person=1001")  # the page speaks Indonesian too
    await other.locator('.person.active:has-text("Sari")').wait_for()
    assert await other.inner_text("h1") == "Sandbox Kartu" and "Waktu sandbox" in await other.inner_text(
        "#clock"
    )
    await _say(page, "/card")
    await _open_chat(page, "Sari")
    await _say(page, "/help")
    await other.locator("#messages .msg.bot", has_text="Mengelola toko").last.wait_for()  # the owner's help
    await _shot(other, "07-second-tab")


async def test_a_membership_is_paid_in_stars_in_the_browser(sandbox: Sandbox, browser: object) -> None:
    """The owner offers a membership; Rizky joins and pays the Stars invoice in the page (as the
    Telegram app would); a month later Telegram renews it."""
    page = await browser.new_page(viewport={"width": 1200, "height": 860})  # type: ignore[attr-defined]
    await page.goto(sandbox.url)
    await _open_chat(page, "Sari")
    await _say(page, "/membership")
    await _bubbles(page).last.get_by_role("button", name="✏️ Atur penawaran").wait_for()
    await _tap(page, "✏️ Atur penawaran")  # the same bubble asks, one thing at a time
    await _bubbles(page).filter(has_text="Namanya apa?").wait_for()
    await _say(page, "Gold Club")
    await _bubbles(page).filter(has_text="Berapa Telegram Stars").wait_for()
    await _say(page, "50")
    await _bubbles(page).filter(has_text="cek sebelum disimpan").wait_for()
    await _shot(page, "09-owner-offer-summary")
    await _tap(page, "✅ Simpan")
    await _bubbles(page).filter(has_text="Anggota sekarang: 0").wait_for()

    await _open_chat(page, "Rizky")
    await _say(page, "/member")
    await _bubbles(page).last.get_by_role("button", name="💎 Join for 50 ⭐").wait_for()
    await _tap(page, "💎 Join for 50 ⭐")
    await _bubbles(page).last.get_by_role("button", name="⭐ Pay 50 Stars").wait_for()
    await _tap(page, "⭐ Pay 50 Stars")
    await _bubbles(page).filter(has_text="Welcome to Gold Club").wait_for()
    await _shot(page, "10-member-paid-in-stars")
    await page.click("button[data-step='30d']")
    await _bubbles(page).filter(has_text="renewed: until").wait_for()
    await _shot(page, "11-member-renewed")


async def test_a_customer_on_whatsapp_in_a_whatsapp_looking_chat(sandbox: Sandbox, browser: object) -> None:
    """Wulan came by the WhatsApp poster (the demo): her chat looks like WhatsApp's, with the card
    picture, reply buttons and the menu as a list. A new customer opens the owner's wa.me link as
    themselves, agrees and joins; at a phone's width too."""
    page = await browser.new_page(viewport={"width": 1200, "height": 860})  # type: ignore[attr-defined]
    await page.goto(sandbox.url)
    await _open_chat(page, "Wulan")
    await page.locator("#chat.wa").wait_for()
    assert "WhatsApp" in await page.inner_text(".person.active")
    assert "+6281100009999" in await page.inner_text("#title")
    await page.locator("#messages .msg.bot img").first.wait_for()  # her card's picture
    assert await page.locator("#messages .msg.bot b", has_text="Kopi Senja").count() > 0  # *bold*, drawn
    await _shot(page, "12-whatsapp-customer")

    await _say(page, "KARTU")
    await page.locator("#messages .msg.user", has_text="KARTU").wait_for()
    await page.locator("#messages .msg.bot img").nth(2).wait_for()  # the card again, with her 2 stamps
    await _say(page, "menu")
    await _bubbles(page).last.get_by_role("button", name="☰ Menu").click()
    await page.click('#picker button:has-text("Hadiah")')
    await _bubbles(page).filter(has_text="Kamu belum punya hadiah").wait_for()
    await _shot(page, "13-whatsapp-menu-and-rewards")

    # A newcomer on WhatsApp opens the owner's WhatsApp link as herself: consent, then her card.
    await _add_customer(page, "Eka", "id", "whatsapp")
    await _open_chat(page, "Sari")
    await _say(page, "/link")
    link = page.locator("#messages a[data-whatsapp]").last
    await link.wait_for()
    assert await link.get_attribute("data-whatsapp") == "GABUNG kopi-senja"
    await link.click()
    await page.click('#picker button:has-text("Eka")')
    await page.locator("#chat.wa").wait_for()
    question = _bubbles(page).filter(has_text="menyimpan kartu loyalitasmu")
    await question.wait_for()
    await question.get_by_role("button", name="✅ Ya, gabung").click()
    await _bubbles(page).filter(has_text="Selamat datang di Kopi Senja, Eka").wait_for()
    await page.set_viewport_size({"width": 390, "height": 844})
    await _shot(page, "14-whatsapp-newcomer-phone")


async def test_staff_scan_a_customers_qr_and_she_opens_her_card_app(
    sandbox: Sandbox, browser: object
) -> None:
    """Budi taps 📷 Pindai, points the camera at Ayu's code (the sandbox's scanner asks whose), taps
    Konfirmasi, and Ayu's card arrives; a QR that is not Kartu's keeps the camera open; in a points
    shop the amount goes in on the keypad; Ayu opens her card as a Mini App, at a phone's width."""
    page = await browser.new_page(viewport={"width": 1200, "height": 860})  # type: ignore[attr-defined]
    await page.goto(sandbox.url)
    await _open_chat(page, "Budi")
    await page.get_by_role("button", name="📷 Pindai").click()
    await page.locator("#picker button[data-testid=not-kartu]").click()  # a menu's QR, say
    frame = page.frame_locator("#miniapp-page")
    await frame.locator("#problem", has_text="bukan kode Kartu").wait_for()
    await _shot(page, "15-scan-not-kartu")
    await page.click('#picker button:has-text("Ayu")')  # the camera still open: now her code
    await _bubbles(page).last.get_by_role("button", name="✅ Konfirmasi").wait_for()
    assert "Ayu" in await _bubbles(page).last.inner_text()
    await _shot(page, "16-scan-prompt")
    await _tap(page, "✅ Konfirmasi")
    await _bubbles(page).filter(has_text="Tercatat: Ayu").last.wait_for()
    await page.click("button[data-step='1d']")  # five stamps a day at most: her sixth tomorrow
    await page.get_by_role("button", name="📷 Pindai").click()  # her sixth: the card is full
    await page.click('#picker button:has-text("Ayu")')
    await _bubbles(page).last.get_by_role("button", name="✅ Konfirmasi").wait_for()
    await _tap(page, "✅ Konfirmasi")
    await _open_chat(page, "Ayu")
    reward = _bubbles(page).filter(has_text="Hadiahmu")
    await reward.wait_for()  # the full card's reward, from two scans
    reward_code = await reward.locator("code").inner_text()

    # Her card as a Mini App, at a phone's width.
    await page.set_viewport_size({"width": 390, "height": 844})
    await _say(page, "/card")
    await _bubbles(page).last.get_by_role("button", name="📱 Buka kartuku").click()
    await frame.locator("#code").wait_for()
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}", await frame.locator("#code").inner_text())
    assert await frame.locator("#picture svg").count() == 1
    await frame.locator("#rewards code", has_text=reward_code).wait_for()  # her reward, with its code
    await _shot(page, "17-card-mini-app-phone")
    await page.click("#miniapp-close")

    # A points shop: the amount on the keypad, grouped as Indonesians read it.
    async with sandbox.app.db.write() as uow:
        program = await uow.programs.for_merchant(1)
        program.points_enabled = True
        uow.session.add(program)
    await page.set_viewport_size({"width": 1200, "height": 860})
    await _open_chat(page, "Budi")
    await _say(page, "/help")  # the keyboard of the shop as it runs now
    await _bubbles(page).filter(has_text="Pindai").last.wait_for()
    await page.get_by_role("button", name="📷 Pindai").click()
    await page.click('#picker button:has-text("Rizky")')
    for key in ("1", "2", "5", "000"):
        await frame.get_by_role("button", name=key, exact=True).click()
    assert await frame.locator("#amount").inner_text() == "Rp 125.000"
    await _shot(page, "18-scan-keypad")
    await frame.locator("#send").click()
    await _bubbles(page).filter(has_text="Rp 125.000").last.wait_for()
    await _shot(page, "19-scan-sale-prompt")


async def test_the_sandbox_on_a_phone(sandbox: Sandbox, browser: object) -> None:
    """At 390 px the people are a drawer over a full-width chat, with times and day separators as
    Telegram shows them: a day later, a new separator."""
    page = await browser.new_page(viewport={"width": 390, "height": 844})  # type: ignore[attr-defined]
    await page.goto(sandbox.url)
    assert (
        not await page.locator("#people").is_visible()
        or (
            await page.locator("#people").bounding_box()  # type: ignore[union-attr]
        )["x"]
        < 0
    )
    await page.click("#drawer-toggle")
    await page.click('.person:has-text("Ayu")')
    await page.locator("#messages .msg.bot").first.wait_for()
    chat = await page.locator("#chat").bounding_box()
    assert chat is not None and chat["width"] == 390  # the whole width
    assert await page.locator("[data-testid=day]").count() == 1
    assert re.fullmatch(
        r"\d{1,2}[:.]\d\d( [AP]M)?", await page.locator("#messages .msg .time").first.inner_text()
    )
    await page.click("#drawer-toggle")
    await page.click("button[data-step='1d']")
    await page.mouse.click(375, 420)  # beside the drawer: it closes
    await _say(page, "/card")
    await page.locator("[data-testid=day]").nth(1).wait_for()  # tomorrow's messages under a new day
    assert (
        await page.locator("#text").is_visible() and await page.locator("#keyboard button").first.is_visible()
    )
    await _shot(page, "20-sandbox-on-a-phone")
