"""Partner vouchers at the service tier: the handshake, vouchers issued when a purchase meets the
condition (once, one unused at a time, within the cap), redeemed at the partner, the settlement."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from kartu.loyalty import errors
from kartu.loyalty.clock import FrozenClock
from kartu.services.container import Services
from kartu.services.customers import TelegramProfile
from kartu.services.partners import Proposal, ProposedTerms
from tests.services.conftest import BARISTA, OWNER, Shop, open_shop

JEWELLER, JEWELLER_STAFF = 110, 210


async def jeweller(services: Services) -> str:
    created = await services.merchants.create_merchant("Toko Emas", JEWELLER)
    token = await services.merchants.invite_staff(JEWELLER)
    await services.customers.start(TelegramProfile(JEWELLER_STAFF, "Eko"), f"staff_{token}")
    return created.slug


async def partner_up(
    services: Services, slug: str, condition: str = "over 500.000", limits: str = "30 days; 2 a month"
) -> int:
    view = await services.partners.propose(
        OWNER, Proposal(slug, condition, "10% off any ring; 50.000; not with other promotions", limits)
    )
    (partnership,) = view.partnerships
    await services.partners.decide(JEWELLER, partnership.partnership_id, accept=True)
    return partnership.partnership_id


async def sell(shop: Shop, amount: str) -> list[str]:
    prompt = await shop.services.counter.open_sale(BARISTA, shop.customer_code, amount)
    return list((await shop.services.counter.confirm_sale(BARISTA, prompt.token)).news)


async def test_the_handshake_and_bad_proposals(services: Services) -> None:
    shop = await open_shop(services)
    slug = await jeweller(services)
    for bad, error in (
        (Proposal(shop.slug, "over 500.000", "10% off; 50.000", "30 days; 2 a month"), "partner_self"),
        (Proposal("nobody", "over 500.000", "10% off; 50.000", "30 days; 2 a month"), "partner_unknown"),
        (Proposal(slug, "sometimes", "10% off; 50.000", "30 days; 2 a month"), "partner_condition"),
        (Proposal(slug, "over 500.000", "10% off", "30 days; 2 a month"), "partner_voucher"),
        (Proposal(slug, "over 500.000", "10% off; 50.000", "forever"), "partner_limits"),
    ):
        with pytest.raises(errors.InvalidSetting) as refused:
            await services.partners.propose(OWNER, bad)
        assert refused.value.field == error
    view = await services.partners.propose(
        OWNER,
        Proposal(
            f"https://t.me/kartu_bot?start=m_{slug}", "5 visits", "10% off; 50.000", "30 days; 2 a month"
        ),
    )
    (proposal,) = view.partnerships
    with pytest.raises(errors.InvalidSetting):
        await services.partners.propose(
            OWNER, Proposal(slug, "5 visits", "10% off; 50.000", "30 days; 2 a month")
        )
    with pytest.raises(errors.NotOwner):
        await services.partners.decide(
            OWNER, proposal.partnership_id, accept=True
        )  # the proposer cannot accept
    await services.partners.decide(JEWELLER, proposal.partnership_id, accept=False)
    with pytest.raises(errors.PromptClosed):
        await services.partners.decide(JEWELLER, proposal.partnership_id, accept=True)
    async with services.counter.db.read() as uow:
        kinds = (
            (await uow.session.execute(text("SELECT kind FROM outbox_message ORDER BY id"))).scalars().all()
        )
    assert "partner_offer" in kinds and "partner_news" in kinds


async def test_a_purchase_over_the_amount_gives_the_voucher_within_the_cap(
    services: Services, clock: FrozenClock
) -> None:
    shop = await open_shop(services)
    await services.merchants.choose_kinds(OWNER, stamps=True, points=True)
    slug = await jeweller(services)
    await partner_up(services, slug)
    assert not [key for key in await sell(shop, "400.000") if key.startswith("voucher:")]
    assert [key for key in await sell(shop, "600.000") if key.startswith("voucher:")]
    assert not [
        key for key in await sell(shop, "600.000") if key.startswith("voucher:")
    ]  # one unused at a time
    async with services.counter.db.read() as uow:
        voucher = (
            await uow.session.execute(
                text("SELECT code, merchant_id FROM reward WHERE partnership_id IS NOT NULL")
            )
        ).one()
    assert voucher[1] == 2  # a reward of the jeweller, used there as any reward
    prompt = await services.counter.open_redeem(JEWELLER_STAFF, voucher[0])
    await services.counter.confirm_redeem(JEWELLER_STAFF, prompt.token)
    assert [
        key for key in await sell(shop, "600.000") if key.startswith("voucher:")
    ]  # the second of 2 this month
    assert not [key for key in await sell(shop, "900.000") if key.startswith("voucher:")]  # over the cap
    assert (await services.reports.stats(OWNER)).vouchers == (2, 0)
    assert (await services.reports.stats(JEWELLER)).vouchers == (0, 1)
    # A new month: last month's settlement for both owners, once.
    clock.advance(days=30)
    assert (await services.upkeep.sweep()).partnerships_settled == 1
    assert (await services.upkeep.sweep()).partnerships_settled == 1  # counted again, told once (by key)
    async with services.counter.db.read() as uow:
        told = (
            await uow.session.execute(
                text("SELECT chat_id, params FROM outbox_message WHERE kind = 'partner_settlement'")
            )
        ).all()
    assert sorted(chat for chat, _ in told) == [OWNER, JEWELLER]
    assert '"issued": 2' in told[0][1] and '"redeemed": 1' in told[0][1] and '"value": 50000' in told[0][1]
    slug_name, rows = await services.partners.vouchers(JEWELLER)
    assert len(rows) == 2 and rows[0].redeemed_at is not None


async def test_ending_keeps_given_vouchers_and_stops_new_ones(services: Services) -> None:
    shop = await open_shop(services)
    slug = await jeweller(services)
    partnership = await partner_up(services, slug, condition="2 visits")
    await shop.purchase()
    await shop.purchase()
    await services.partners.end(JEWELLER, partnership)
    async with services.counter.db.read() as uow:
        issued = await uow.session.scalar(
            text("SELECT count(*) FROM reward WHERE partnership_id IS NOT NULL")
        )
    assert issued == 1
    await shop.purchase()
    await shop.purchase()
    async with services.counter.db.read() as uow:
        assert (
            await uow.session.scalar(text("SELECT count(*) FROM reward WHERE partnership_id IS NOT NULL"))
            == 1
        )
    with pytest.raises(errors.PromptClosed):
        await services.partners.end(OWNER, partnership)


async def test_a_partnership_of_one_outlet_with_one_of_the_partners(services: Services) -> None:
    """The mall branch partners with a neighbour in its mall: only purchases at that branch earn
    the voucher, and only the neighbour's staff at that outlet redeem it; the voucher shows its name."""
    shop = await open_shop(services)
    await services.merchants.choose_kinds(OWNER, stamps=True, points=True)
    await services.merchants.add_outlet(shop.slug, "Plaza Senayan")
    slug = await jeweller(services)
    await services.merchants.add_outlet(slug, "Senayan City")
    async with services.counter.db.read() as uow:
        plaza = (await uow.merchants.outlets(1))[1]
        senayan_city = (await uow.merchants.outlets(2))[1]
    with pytest.raises(errors.InvalidSetting) as refused:
        await services.partners.check_field(OWNER, "outlet", "999999")
    assert refused.value.field == "partner_outlet"
    assert await services.partners.check_partner(OWNER, senayan_city.slug) == "Toko Emas · Senayan City"
    view = await services.partners.propose_terms(
        OWNER,
        ProposedTerms(
            senayan_city.slug, "over 500.000", "10% off any ring", "50.000", "", "30", "5", str(plaza.id)
        ),
    )
    (partnership,) = view.partnerships
    assert partnership.other_name == "Toko Emas · Senayan City" and partnership.our_outlet == "Plaza Senayan"
    await services.partners.decide(JEWELLER, partnership.partnership_id, accept=True)

    # Budi works at the first outlet: his sale earns nothing from Plaza Senayan's partnership.
    assert not [key for key in await sell(shop, "600.000") if key.startswith("voucher:")]
    rina = 230
    token = await services.merchants.invite_staff(OWNER, "staff", plaza.id)
    await services.customers.start(TelegramProfile(rina, "Rina"), f"staff_{token}")
    prompt = await services.counter.open_sale(rina, shop.customer_code, "600.000")
    news = (await services.counter.confirm_sale(rina, prompt.token)).news
    assert [key for key in news if key.startswith("voucher:")]
    async with services.counter.db.read() as uow:
        (code,) = (
            await uow.session.execute(text("SELECT code FROM reward WHERE partnership_id IS NOT NULL"))
        ).one()
    # The jeweller's staff of its first outlet cannot take it; their Senayan City staff can.
    with pytest.raises(errors.OtherOutlet):
        await services.counter.open_redeem(JEWELLER_STAFF, code)
    eko_city = 231
    token = await services.merchants.invite_staff(JEWELLER, "staff", senayan_city.id)
    await services.customers.start(TelegramProfile(eko_city, "Sinta"), f"staff_{token}")
    redeem = await services.counter.open_redeem(eko_city, code)
    await services.counter.confirm_redeem(eko_city, redeem.token)
