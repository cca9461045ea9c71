"""Customer screens made once, shown on both messengers: on Telegram as before (text and inline
keyboard), on WhatsApp as its buttons, lists and link; sent through pywa to the strict emulator,
which takes them. A screen WhatsApp cannot show fails here."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from pywa_async.types import Button, SectionList, URLButton

from kartu.channels.whatsapp.graph import graph_client
from kartu.channels.whatsapp.screens import ScreenDoesNotFit, whatsapp
from kartu.config import Settings
from kartu.presenters.customer import forget_question, leave_question
from kartu.presenters.format import html
from kartu.presenters.points import catalogue_text, offer_text
from kartu.presenters.screens import Action, Screen, telegram
from kartu.sandbox.whatsapp import WaUser, WhatsAppEmulator
from kartu.services.customers import LeavePreview
from kartu.services.points import CatalogueEntry, CatalogueView, OfferView
from tests.presenters.test_screens import reading

CATALOGUE = CatalogueView(
    "Kopi *Senja*",
    "Asia/Jakarta",
    1250,
    tuple(
        CatalogueEntry(n, f"Es Kopi Susu Gula Aren Ukuran Besar {n}", 100 * n, affordable=n < 9)
        for n in range(1, 13)
    ),
)


@pytest.fixture
async def meta() -> AsyncIterator[tuple[WhatsAppEmulator, WaUser]]:
    emulator = WhatsAppEmulator()
    await emulator.start()
    ayu = emulator.user("Ayu")
    ayu.last_inbound = emulator.now()
    try:
        yield emulator, ayu
    finally:
        await emulator.stop()


async def _send(emulator: WhatsAppEmulator, to: WaUser, screen: Screen) -> None:
    wa = graph_client(Settings(_env_file=None, **emulator.settings()))  # type: ignore[arg-type]
    shown = whatsapp(screen)
    await wa.send_message(to.bsuid, shown.text, buttons=shown.buttons)


async def test_customer_screens_go_out_on_whatsapp_in_both_languages(
    meta: tuple[WhatsAppEmulator, WaUser],
) -> None:
    emulator, ayu = meta
    for language in ("id", "en"):
        with reading(language):
            leave = leave_question(LeavePreview(1, "Kopi Senja", 3, 1))
            offer = offer_text(OfferView("T" * 22, "Es Kopi Susu", 500, 1250, None, 24))
            catalogue = catalogue_text(CATALOGUE, [], language)
            for screen in (leave, forget_question(), offer, catalogue):
                await _send(emulator, ayu, screen)
    confirm, erase, get_it, choose = emulator.messages_to(ayu)[-4:]
    assert erase.text.startswith("Erase your personal data?") and erase.buttons() == [
        "✅ Confirm",
        "✖️ Cancel",
    ]
    assert confirm.buttons() == ["✅ Confirm", "✖️ Cancel"] and confirm.text.startswith("Leave *Kopi Senja*?")
    assert get_it.buttons() == ["✅ Get it", "⬅️ Back"]
    rows = choose.payload["interactive"]["action"]["sections"][0]["rows"]
    assert (
        len(rows) == 8
        and rows[0]["title"] == "🎁 Es Kopi Susu Gula Are…"
        and rows[0]["description"] == "100 points"
    )
    assert choose.payload["interactive"]["action"]["button"] == "🎁 Choose a reward"
    assert "*Kopi ∗Senja∗*" in choose.text  # the owner's name cannot turn the text bold
    assert not emulator.refused


def test_telegram_shows_the_same_screens_as_before() -> None:
    with reading("en"):
        text, markup = telegram(catalogue_text(CATALOGUE, [], "en"))
        assert markup is not None
        assert markup.inline_keyboard[0][0].text == "🎁 Es Kopi Susu Gula Aren Ukuran Besar 1 · 100 points"
        assert len(markup.inline_keyboard) == 8 and "<b>Kopi *Senja*</b>" in text
        _, pair = telegram(leave_question(LeavePreview(1, "Kopi Senja", 3, 1)))
        assert pair is not None and [button.text for button in pair.inline_keyboard[0]] == [
            "✅ Confirm",
            "✖️ Cancel",
        ]


def test_a_screen_whatsapp_cannot_show_fails_here_not_for_a_customer() -> None:
    many = Screen(html("Pick"), tuple(Action(f"{n}", f"pick:{n}") for n in range(11)))
    with pytest.raises(ScreenDoesNotFit):
        whatsapp(many)
    mixed = Screen(html("Pay"), (Action("Pay", url="https://t.me/$x"), Action("Later", "later")))
    with pytest.raises(ScreenDoesNotFit):
        whatsapp(mixed)
    with pytest.raises(ScreenDoesNotFit):
        whatsapp(Screen(html("{x}", x="y" * 1025), (Action("OK", "ok"),)))  # a body over 1,024
    assert isinstance(
        whatsapp(Screen(html("Pay"), (Action("Pay with Stars", url="https://t.me/$x"),))).buttons, URLButton
    )
    three = whatsapp(Screen(html("Pick"), tuple(Action(f"{n}", f"pick:{n}") for n in range(3)))).buttons
    assert isinstance(three, list) and all(isinstance(button, Button) for button in three)
    four = whatsapp(
        Screen(html("Pick"), tuple(Action(f"{n}", f"pick:{n}") for n in range(4)), choose="Pick one")
    )
    assert isinstance(four.buttons, SectionList)
