"""Running a shop as use cases: creating it, its owners, its team, its program and each role's menu."""

from __future__ import annotations

import pytest

from kartu.loyalty.errors import (
    DuplicateMerchantName,
    InviteForSomeoneElse,
    LastOwner,
    NotOwner,
    ProgramChangeAffectsCards,
)
from kartu.services.container import Services
from kartu.services.customers import TelegramProfile
from kartu.services.views import Audience
from tests.services.conftest import BARISTA, CUSTOMER, OWNER, Shop


async def test_a_second_shop_with_the_same_name_needs_a_yes(services: Services) -> None:
    first = await services.merchants.create_merchant("Kopi Senja", OWNER)
    with pytest.raises(DuplicateMerchantName) as twin:
        await services.merchants.create_merchant("kopi  senja", OWNER, allow_same_name=False)
    assert twin.value.slug == first.slug
    second = await services.merchants.create_merchant("kopi senja", OWNER, allow_same_name=True)
    assert second.slug == "kopi-senja-2"
    assert [(shop.slug, shop.owners) for shop in await services.merchants.directory()] == [
        ("kopi-senja", 1),
        ("kopi-senja-2", 1),
    ]


async def test_an_owner_given_by_username(services: Services) -> None:
    linked = await services.merchants.create_merchant("Barber Jaya", owner_username="@Joko_Barber")
    assert (linked.owner_telegram_id, linked.owner_for_username) == (None, "joko_barber")
    with pytest.raises(InviteForSomeoneElse):
        await services.customers.start(
            TelegramProfile(401, "Eve", "eve"), f"owner_{linked.owner_invite_token}"
        )
    taken = await services.customers.start(
        TelegramProfile(402, "Joko", "joko_barber"), f"owner_{linked.owner_invite_token}"
    )
    assert taken.invite is not None and taken.invite.role == "owner"
    known = await services.merchants.create_merchant("Barber Dua", owner_username="JOKO_BARBER")
    assert known.owner_telegram_id == 402 and known.owner_invite_token is None


async def test_updating_a_shop_keeps_its_link(services: Services) -> None:
    created = await services.merchants.create_merchant("Kopi Senja", OWNER, language="id")
    updated = await services.merchants.update_merchant(
        created.slug, name="Kopi Senja ☕", timezone="Asia/Makassar", owner_link=True
    )
    assert (updated.slug, updated.name, updated.timezone) == ("kopi-senja", "Kopi Senja ☕", "Asia/Makassar")
    assert updated.owner.invite_token is not None
    assert (await services.merchants.program(OWNER)).reward_name == "1 minuman gratis"


async def test_each_role_gets_its_own_menu(shop: Shop, services: Services) -> None:
    assert (await services.merchants.menu(OWNER)).audience == Audience.OWNER
    assert (await services.merchants.menu(BARISTA)).audience == Audience.STAFF
    customer = await services.merchants.menu(CUSTOMER)
    assert (customer.audience, customer.has_card, customer.works_somewhere) == (
        Audience.CUSTOMER,
        True,
        False,
    )
    await services.customers.start(TelegramProfile(BARISTA, "Budi"), f"m_{shop.slug}")
    both = await services.merchants.menu(BARISTA, as_customer=True)
    assert (both.audience, both.has_card, both.works_somewhere) == (Audience.CUSTOMER, True, True)


async def test_the_team_and_its_last_owner(shop: Shop, services: Services) -> None:
    team = await services.merchants.team(OWNER)
    assert [member.role for member in team.members] == ["owner", "staff"] and team.members[
        1
    ].first_name == "Budi"
    assert team.viewer_staff_id == team.members[0].staff_id and team.members[1].last_active_at is None
    assert all(member.added_at is not None for member in team.members)
    with pytest.raises(NotOwner):
        await services.merchants.team(BARISTA)
    with pytest.raises(LastOwner):
        await services.merchants.remove_owner(shop.slug, OWNER)


async def test_lowering_the_card_asks_before_capping_cards(shop: Shop, services: Services) -> None:
    await shop.purchase(5)
    with pytest.raises(ProgramChangeAffectsCards) as affected:
        await services.merchants.change_program(OWNER, "stamps_required", "4")
    assert (affected.value.cards, affected.value.stamps_required) == (1, 4)
    program = await services.merchants.change_program(OWNER, "stamps_required", "4", confirmed=True)
    assert program.stamps_required == 4 and (await services.customers.card(CUSTOMER)).stamps == 3
