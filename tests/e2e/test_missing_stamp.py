"""Missing a stamp? (issue 30): from /card the customer picks the visit's day and sends the receipt's
photo; staff on duty get the photo and Approve or a reason to refuse; the customer hears the
decision; /stats counts the requests and the median time to a decision."""

from __future__ import annotations

from kartu.presenters.callbacks import MissingStamp
from kartu.sandbox import TelegramUser
from tests.e2e.world import World


async def _ask(customer: TelegramUser, day: str) -> None:
    card = await customer.ask("/card")
    await customer.press(card, "Stempel kurang")
    question = await customer.next_message()
    assert [b["text"] for b in question.buttons()][:2] == ["Hari ini", "Kemarin"] and len(
        question.buttons()
    ) == 7
    await customer.press(question, day)
    assert "Kirim foto struk tanggal" in (await customer.next_message()).body
    await customer.send_photo()
    thanks = await customer.next_message()
    assert thanks.body == "Terima kasih! Staf akan memeriksa strukmu; jawabannya datang di sini."


async def test_a_missing_stamp_is_refused_with_a_reason_then_approved(
    world: World, owner: TelegramUser, barista: TelegramUser, customer: TelegramUser
) -> None:
    join = await world.create_shop()
    await world.hire(owner, barista)
    await world.join(customer, join)
    customer.mark_read()
    await _ask(customer, "Kemarin")
    receipt = await barista.next_message()
    assert receipt.photo is not None  # the receipt first
    request = await barista.next_message()
    assert "says a stamp is missing for their visit on" in request.body and "Ayu" in request.body
    assert [b["text"] for b in request.buttons()] == [
        "✅ Approve",
        "✖️ Not on the receipt",
        "✖️ Stamped already",
        "✖️ Cannot read it",
    ]
    await barista.press(request, "Cannot read it")
    refused = await customer.next_message()
    assert "tidak disetujui: foto struknya tidak terbaca" in refused.body
    assert await barista.until(lambda: "rejected by Budi" in request.body)

    world.clock.advance(minutes=11)  # after a refusal the next request waits a little
    await _ask(customer, "Hari ini")
    await barista.next_message()  # the receipt
    request = await barista.next_message()
    await barista.press(request, "Approve")
    news = await customer.next_message()
    assert "+1 stempel" in news.body  # credited as a purchase

    # A forged day, and someone with no card, change nothing.
    forged = await customer.press(request, data="miss:9")
    assert forged.text == world.says("id", "This button is no longer valid.")
    stranger = world.user(666, "Stranger", "en")
    refused_tap = await stranger.press(request, data=MissingStamp(days_ago=0).pack())
    assert refused_tap.text

    await owner.send("/stats")
    stats = await owner.until(lambda: "Stempel kurang" in owner.inbox[-1].body and owner.inbox[-1])
    assert "🧾 Stempel kurang dalam 30 hari: 2 diajukan, 1 disetujui" in stats.body
