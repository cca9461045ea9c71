"""The first hour (issue 9), as the person sees it: the words and screens they get."""

from __future__ import annotations

from kartu.loyalty.program import ProgramRules
from kartu.sandbox import TelegramUser
from tests.e2e.conftest import World, code_in


async def test_a_customer_who_sends_their_own_code_is_told_to_show_it(world: World, owner: TelegramUser, barista: TelegramUser) -> None:
    payload = await world.create_shop(rules=ProgramRules(stamps_required=2, daily_stamp_cap=0))
    await world.hire(owner, barista)
    customer, stranger = world.user(300, "Ayu", "en"), world.user(301, "Eve", "en")
    code = await world.join(customer, payload)
    assert (await customer.ask(code)).body == "That is your own code 🙂 Show it at the counter when you pay, and staff will add your stamp."
    await barista.press(await barista.ask(f"/stamp {code} 2"), "Confirm")
    await customer.next_message()
    reward_code = code_in((await customer.next_message()).body)
    assert (await customer.ask(reward_code.lower())).body == "That is your reward code 🎁 Show it to staff at the counter to use it."
    assert (await stranger.ask(code)).body == "Only staff of this shop can do that."  # someone else's code: nothing learnt


async def test_anyone_can_find_their_telegram_id(world: World) -> None:
    await world.create_shop()
    await world.create_shop("Barber Jaya", owner_id=110)  # two shops: /start alone joins neither
    person = world.user(4242, "Rina", "en")
    greeting = await person.ask("/start")
    assert "Open your shop's link" in greeting.body and "<code>4242</code>" in greeting.body
    assert (await person.ask("/whoami")).body == "Your Telegram user id is <code>4242</code> (Rina)."


async def test_survey_buttons_read_alike_and_broadcasts_name_the_shop(world: World, owner: TelegramUser, barista: TelegramUser) -> None:
    payload = await world.create_shop(rules=ProgramRules(survey_delay_minutes=1, daily_stamp_cap=0))
    await world.hire(owner, barista)
    customer = world.user(300, "Ayu", "en")
    code = await world.join(customer, payload)
    await barista.press(await barista.ask(code), "Confirm")
    await customer.next_message()
    world.clock.advance(minutes=2)
    await world.deliver()
    survey = await customer.next_message()
    assert [button["text"] for button in survey.buttons()] == ["1 ⭐", "2 ⭐", "3 ⭐", "4 ⭐", "5 ⭐"]

    await owner.ask("/broadcast")
    segments = await owner.ask("Kopi susu 2-for-1 today!")
    await owner.press(segments, "Semua anggota")
    await owner.next_message()
    await owner.press(await owner.next_message(), "Kirim")
    await world.deliver()
    news = [m for m in customer.unread() if "2-for-1" in m.body]
    assert news and news[-1].body == "📣 <b>Kopi Senja</b>\nKopi susu 2-for-1 today!"


async def test_the_staff_prompt_tells_two_ayus_apart_and_mentions_a_waiting_reward(
    world: World, owner: TelegramUser, barista: TelegramUser
) -> None:
    payload = await world.create_shop(rules=ProgramRules(stamps_required=2, daily_stamp_cap=0))
    await world.hire(owner, barista)
    first, second = world.user(300, "Ayu", "en", "ayu_k"), world.user(301, "Ayu", "en")
    first_code, second_code = await world.join(first, payload), await world.join(second, payload)
    prompt = await barista.ask(second_code)
    assert prompt.body.startswith("🏪 <b>Kopi Senja</b>\n👤 <b>Ayu</b> · first visit\nAyu has 0/2 stamps.")
    await barista.press(await barista.ask(f"/stamp {first_code} 2"), "Confirm")
    world.clock.advance(days=1)
    prompt = await barista.ask(first_code)
    assert "👤 <b>Ayu</b> @ayu_k · last visit 5 Jan 2026" in prompt.body
    assert "🎁 Ayu has 1 reward(s) waiting: ask for the reward code to redeem it." in prompt.body
