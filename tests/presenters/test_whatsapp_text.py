"""The same messages in WhatsApp's markup: the templates' tags become WhatsApp's marks, each value
is rendered again rather than HTML-escaped, and what people wrote cannot become formatting (their
``*`` and ``_`` are look-alikes) while web addresses stay whole. Real customer screens come out
as text the strict WhatsApp emulator takes."""

from __future__ import annotations

from kartu.channels.whatsapp.text import whatsapp_text
from kartu.presenters.customer import card_caption, progress_line
from kartu.presenters.format import HTML, html, join_html
from kartu.sandbox.whatsapp import TEXT_MAX, _text
from kartu.services.views import CardView
from tests.presenters.test_screens import CARD, reading


def test_tags_become_marks_and_values_are_the_readers_text() -> None:
    welcome = html("Welcome to <b>{shop}</b>, {first_name}! <i>{count} stamps</i>", shop="Kopi & Senja",
                   first_name="Ayu", count=12000)  # fmt: skip
    assert str(welcome) == "Welcome to <b>Kopi &amp; Senja</b>, Ayu! <i>12,000 stamps</i>"
    assert whatsapp_text(welcome) == "Welcome to *Kopi & Senja*, Ayu! _12,000 stamps_"
    nested = join_html("\n", [welcome, html("<code>{code}</code>", code="K7Q2-9XHM"), "<3 ok"])
    assert whatsapp_text(nested) == (
        "Welcome to *Kopi & Senja*, Ayu! _12,000 stamps_\n```K7Q2-9XHM```\n‹3 ok"
    )


def test_what_people_wrote_cannot_become_formatting() -> None:
    message = html("<b>{shop}</b>: {comment}", shop="*Kopi* _Senja_", comment="~sale~ `x` <b>free</b>")
    assert whatsapp_text(message) == "*∗Kopi∗ ＿Senja＿*: ∼sale∼ ˋxˋ ‹b›free‹/b›"
    assert _text(whatsapp_text(message), TEXT_MAX, "text") is None  # the emulator takes it


def test_links_keep_their_address_whole_and_marks_hug_their_text() -> None:
    link = "https://t.me/kopi_senja_bot?start=m_kopi-senja"
    assert whatsapp_text(html('<a href="{url}">{label}</a> or {url}', url=link, label="Buka_kartu")) == (
        f"Buka＿kartu ({link}) or {link}"
    )
    assert whatsapp_text(html("<b> {x} </b>|<i>{y}</i>", x="a", y="")) == " *a* |"
    assert whatsapp_text(HTML("<b>made by hand</b> *x*")) == "*made by hand* ∗x∗"  # no template: all inert
    assert whatsapp_text("plain *text*") == "plain ∗text∗"


def test_customer_screens_come_out_as_whatsapp_takes_them_in_both_languages() -> None:
    card = CardView("Kopi *Senja*", 7, 10, "1 <free> drink", "K7Q29XHM", 2, "Asia/Jakarta")
    for language in ("id", "en"):
        with reading(language):
            for screen in (card_caption(CARD, language), card_caption(card, language), progress_line(card)):
                text = whatsapp_text(screen)
                _text(text, TEXT_MAX, "text")  # no HTML left, within WhatsApp's length
                assert "<" not in text and "&amp;" not in text, text
            assert "Kopi ∗Senja∗" in whatsapp_text(card_caption(card, language))  # the owner's words, inert
