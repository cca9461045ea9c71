"""A business with several outlets, as far as it goes: each outlet's join link in /link, an outlet's
own poster, and a customer who joins by an outlet's link holds the business's one card, counted for
that outlet."""

from __future__ import annotations

from kartu.sandbox import TelegramUser
from tests.e2e.world import World, code_in


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
