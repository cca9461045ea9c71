"""Paid membership at the service tier: the offer, a checkout for a changed offer refused, a payment
recorded once, the multiplier on points, broadcasts for members only, the end and a refund."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kartu.loyalty import errors
from kartu.loyalty.clock import FrozenClock
from kartu.loyalty.segments import Segment
from kartu.services.container import Services
from kartu.services.membership import StarsPayment
from tests.services.conftest import BARISTA, CUSTOMER, OWNER, Shop, open_shop


async def test_a_member_pays_earns_more_and_is_reached_alone(services: Services, clock: FrozenClock) -> None:
    shop: Shop = await open_shop(services)
    await services.merchants.choose_kinds(OWNER, stamps=False, points=True)
    with pytest.raises(errors.NotOwner):
        await services.membership.set_offer(BARISTA, "Gold Club; 100")
    await services.membership.set_offer(OWNER, "Gold Club; 100; 2")
    invoice = await services.membership.invoice(CUSTOMER)
    assert await services.membership.check_checkout(CUSTOMER, invoice.payload, "XTR", 100)
    assert not await services.membership.check_checkout(CUSTOMER, invoice.payload, "XTR", 99)  # another price
    assert not await services.membership.check_checkout(CUSTOMER, invoice.payload, "USD", 100)
    ends = datetime(2026, 2, 4, 3, tzinfo=UTC)
    paid = await services.membership.record_payment(
        CUSTOMER, StarsPayment(invoice.payload, "XTR", 100, "stxA", ends)
    )
    again = await services.membership.record_payment(
        CUSTOMER, StarsPayment(invoice.payload, "XTR", 100, "stxA", ends)
    )
    assert paid.until == again.until == ends and again.news == ()
    prompt = await services.counter.open_sale(BARISTA, shop.customer_code, "100.000")
    assert (await services.counter.confirm_sale(BARISTA, prompt.token)).points_added == 20  # 2x
    assert (await services.broadcasts.audience(OWNER, [Segment.MEMBERS]))[Segment.MEMBERS] == 1
    assert (await services.reports.stats(OWNER)).paid_members == (1, 100)

    await services.membership.set_offer(OWNER, "Gold Club; 120; 2")  # the offer changed
    assert not await services.membership.check_checkout(CUSTOMER, invoice.payload, "XTR", 100)

    clock.set(datetime(2026, 2, 6, 3, tzinfo=UTC))  # past the end and a day's grace, no renewal came
    assert (await services.upkeep.sweep()).memberships_ended == 1
    assert (await services.membership.for_customer(CUSTOMER)).member_until is None
    prompt = await services.counter.open_sale(BARISTA, shop.customer_code, "100.000")
    assert (await services.counter.confirm_sale(BARISTA, prompt.token)).points_added == 10


async def test_a_refund_stops_the_perks(services: Services) -> None:
    shop = await open_shop(services)
    await services.membership.set_offer(OWNER, "Gold Club; 100")
    invoice = await services.membership.invoice(CUSTOMER)
    await services.membership.record_payment(
        CUSTOMER, StarsPayment(invoice.payload, "XTR", 100, "stxB", None)
    )
    user_id, charge = await services.membership.refund(OWNER, shop.customer_code)
    assert (user_id, charge) == (CUSTOMER, "stxB")
    await services.membership.refunded(OWNER, charge)
    assert (await services.membership.for_customer(CUSTOMER)).member_until is None
    with pytest.raises(errors.UnknownCode):
        await services.membership.refund(OWNER, shop.customer_code)  # refunded already
