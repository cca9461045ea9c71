"""Giving to a cause through the bot: the owner starts one and says what the shop gives; a sale
says what it gave; the customer sees the progress picture, gives points (a second tap gives
nothing more); the end of the cause is told to those who gave."""

from __future__ import annotations

from kartu.sandbox import TelegramUser
from tests.e2e.world import World


async def _set(owner: TelegramUser, screen: object, screen_text: str, button: str, value: str) -> None:
    """One setting of the running cause, on the /causes screen itself (edited in place)."""
    await owner.press(screen, button)  # type: ignore[arg-type]
    await owner.until(lambda: "Atau ketuk Kembali" in screen.body)  # type: ignore[attr-defined]
    await owner.send(value)
    await owner.until(lambda: "Tersimpan" in screen.body and screen_text in screen.body)  # type: ignore[attr-defined]


async def test_a_cause_through_the_bot(world: World, owner: TelegramUser, barista: TelegramUser) -> None:
    join = await world.create_shop()
    await world.hire(owner, barista)
    await world.app.services.merchants.choose_kinds(owner.id, stamps=False, points=True)

    # A new cause, one question at a time on the /causes screen; a refused answer is asked again.
    screen = await owner.ask("/causes")
    await owner.press(screen, "➕")
    await owner.until(lambda: "Namanya apa" in screen.body)
    await owner.send("Rumah <Kucing>")
    await owner.until(lambda: "Targetnya" in screen.body)
    await owner.send("1.000.000")
    await owner.until(lambda: "Hari terakhirnya" in screen.body)
    assert "31-12-2026" in (await owner.ask("kemarin")).body  # refused, asked again
    await owner.send("31-01-2026")
    await owner.until(lambda: "cek sebelum disimpan" in screen.body)
    assert "Target: <b>Rp 1.000.000</b>" in screen.body and "31 Jan 2026" in screen.body
    await owner.press(screen, "Simpan")
    await owner.until(lambda: "Rumah &lt;Kucing&gt;" in screen.body and "Tersimpan" in screen.body)
    await _set(owner, screen, "Rp 10.000", "🛒", "10rb per 100rb")
    await _set(owner, screen, "Rp 100", "⭐", "100")

    customer = world.user(303, "Maya", "en")
    code = await world.join(customer, join)
    prompt = await barista.ask(f"/buy {code} 250.000")
    await barista.press(prompt, "Confirm")
    news = await customer.next_message()
    assert "💚 This purchase gave Rp 20,000 to Rumah &lt;Kucing&gt;" in news.body

    cause = await customer.ask("/cause")
    assert cause.photo is not None and "You gave Rp 20,000" in cause.body
    await customer.press(cause, "Give points")
    assert "You have 25" in (await customer.next_message()).body
    assert "from 1 to 25" in (await customer.ask("99")).body  # more than held: asked again
    offer = await customer.ask("10")
    assert "That is Rp 1,000" in offer.body
    confirm = offer.buttons()[0]["callback_data"]
    await customer.press(offer, "Confirm")
    thanks = await customer.next_message()
    assert "Rp 1,000 for <b>Rumah &lt;Kucing&gt;</b>: Rp 21,000 of Rp 1,000,000" in thanks.body
    again = await customer.press(offer, data=confirm)  # a second tap (a stale copy of the button)
    assert again.show_alert and "already gave" in (again.text or "")
    assert "⭐ 15" in (await customer.ask("/card")).body

    world.clock.advance(days=30)  # past 31 January in Jakarta
    assert (await world.sweep()).causes_done == 1
    await world.deliver()
    ended = [message for message in customer.unread() if "has ended" in message.body]
    assert len(ended) == 1 and "Rp 21,000" in ended[0].body and "You gave Rp 21,000" in ended[0].body
    customer.mark_read()  # and the survey of the purchase
    assert "no cause running" in (await customer.ask("/cause")).body

    owner.mark_read()
    files, _ready = await world.export(owner)
    causes = (files[2].document or b"").decode("utf-8-sig").splitlines()
    assert causes[0].startswith('Donasi,Status,Target (Rp),"Terkumpul, dijanjikan (Rp)"')
    assert causes[1] == "Rumah <Kucing>,berakhir,1000000,21000,0,1,2026-01-31"
