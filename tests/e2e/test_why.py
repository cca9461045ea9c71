"""A ledger customers can question (issue 30): ❓ Why? under a card's news tells the purchase it was,
where, who confirmed it, the rule and all it changed; only to the customer it was for."""

from __future__ import annotations

from kartu.loyalty.program import ProgramRules
from kartu.presenters.callbacks import WhyChange
from kartu.sandbox import TelegramUser
from tests.e2e.world import World


async def test_why_tells_the_purchase_and_what_it_changed(
    world: World, owner: TelegramUser, barista: TelegramUser, customer: TelegramUser
) -> None:
    join = await world.create_shop(rules=ProgramRules(stamps_required=2, daily_stamp_cap=0))
    await world.hire(owner, barista)
    code = await world.join(customer, join)
    prompt = await barista.ask(f"/stamp {code} 2")
    await barista.press(prompt, "Confirm")
    news = await customer.until(lambda: next((m for m in customer.inbox if m.photo and m.buttons()), None))
    assert [b["text"] for b in news.buttons()] == ["❓ Kenapa?"]
    customer.mark_read()
    await customer.press(news, "Kenapa")
    why = await customer.next_message()
    assert (
        "<b>Kenapa kartumu berubah</b>: belanja di Kopi Senja" in why.body
        and "dikonfirmasi oleh Budi" in why.body
    )
    assert "• +2 stempel: 1 untuk setiap pembelian." in why.body
    assert "• 🎁 1 kartu penuh menjadi hadiah." in why.body
    # Someone else's tap on the same news (a forwarded or forged button) learns nothing.
    news_id = WhyChange.unpack(news.buttons()[0]["callback_data"]).news_id
    stranger = world.user(666, "Stranger", "en")
    forged = await stranger.press(news, data=WhyChange(news_id=news_id).pack())
    assert forged.text == world.says("en", "This button is no longer valid.")
    assert not [m for m in stranger.inbox if "Why your card" in m.body]
