"""Whatever people type into Kartu (shop and reward names, their own names, comments, broadcast
text) is data: every message the bot sends with it still parses under Telegram's HTML rules.

Hypothesis picks the strings; the emulator refuses what Telegram would refuse, so a single
unescaped ``<`` anywhere in a reply fails the test with the message that broke."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from kartu.loyalty.program import REWARD_NAME_MAX, ProgramRules
from tests.e2e.world import World, code_in

KNOWN_BREAKERS = [
    "Kopi <3",
    "<b>",
    "</code>",
    "&",
    "&amp;",
    "&#0;",
    "<a href='x'>",
    "<tg-spoiler>",
    "a < b > c",
    "{shop}",
    "{}",
    "%s",
    "\u202eRTL",
    "🙂" * 3,
    '<pre><code class="x">',
    "<<>>",
    "x\u200b",
]
hostile = st.one_of(
    st.sampled_from(KNOWN_BREAKERS),
    st.text(alphabet=st.sampled_from(list("<>&\"'/=;{}%# abZ🙂\u200b")), min_size=1, max_size=24),
).filter(lambda text: text.strip() and not text.startswith("/"))

_people = itertools.count(10_000, 10)


# Each example is a whole shop's life through the real bot (about a second); no shrinking, since
# a failing example is printed as it is and shrinking would replay it hundreds of times.
@settings(
    max_examples=12,
    deadline=None,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    shop=hostile,
    reward=hostile,
    customer_name=hostile,
    staff_name=hostile,
    comment=hostile,
    broadcast=hostile,
)
async def test_hostile_text_in_every_field_never_breaks_a_message(
    world: World, shop: str, reward: str, customer_name: str, staff_name: str, comment: str, broadcast: str
) -> None:
    base = next(_people)
    owner = world.user(base, customer_name, "en")
    barista = world.user(base + 1, staff_name, "id")
    customer = world.user(base + 2, customer_name, "en")
    payload = await world.create_shop(
        shop,
        owner_id=owner.id,
        rules=ProgramRules(stamps_required=2, survey_delay_minutes=1, survey_every_days=1, daily_stamp_cap=0),
    )
    program = await owner.ask("/program")
    await owner.press(program, "🎁 Reward")
    await owner.send(reward[:REWARD_NAME_MAX])
    await owner.until(
        lambda: program.body.startswith("✅ Saved: Reward is now")
    )  # the program message, edited in place
    await world.hire(owner, barista)
    code = await world.join(customer, payload)

    prompt = await barista.ask(f"/stamp {code} 2")
    await barista.press(prompt, "Konfirmasi")
    await customer.next_message()  # the card
    reward_code = code_in((await customer.next_message()).body)
    await customer.ask("/rewards")
    await customer.ask("/card")
    redeem = await barista.ask(f"/redeem {reward_code}")
    await barista.press(redeem, "Konfirmasi")
    await customer.next_message()  # enjoy

    customer.mark_read()
    world.clock.advance(minutes=2)
    await world.deliver()
    survey = await customer.next_message()
    await customer.press(survey, "⭐")
    assert "Thank you" in (await customer.ask(comment)).body
    owner.mark_read()
    await world.deliver()  # the low-rating alerts to the team
    assert comment.strip() in (await owner.next_message()).plain
    for command, replies in (("/feedback", 1), ("/stats", 2), ("/staff", 1)):
        await owner.send(command)
        for _ in range(replies):
            await owner.next_message()
    await world.export(owner)
    await owner.ask("/broadcast")
    segments = await owner.ask(broadcast)
    await owner.press(segments, "Everyone")
    await owner.next_message()  # the preview
    confirm = await owner.next_message()
    await owner.press(confirm, "Send")
    await world.deliver()
    await world.report_progress()

    assert world.emulator.state.refusals == []
