"""Levels through the bot: the owner sets up Gold and opens a private group to it; a customer
reaches Gold with a purchase (a one-person invite link), joins; a forwarded link lets nobody else
in; a year later the review warns, and after the grace period the customer drops and leaves the
group (banned and unbanned, so they may come back)."""

from __future__ import annotations

import asyncio

from kartu.sandbox import TelegramUser
from tests.e2e.world import World

GROUP = -1001234567890


def _invite_url(message: object) -> str:
    buttons = [button for button in message.buttons() if button.get("url")]  # type: ignore[attr-defined]
    assert len(buttons) == 1, message
    return str(buttons[0]["url"])


async def test_tier_up_group_invite_and_down(
    world: World, owner: TelegramUser, barista: TelegramUser
) -> None:
    emulator = world.emulator
    join = await world.create_shop()
    await world.hire(owner, barista)

    # The owner adds Gold (2 visits) step by step, with a typo first, and a grace period of 7 days.
    screen = await owner.ask("/tiers")
    assert "Kopi Senja" in screen.body
    await owner.press(screen, "➕")
    await owner.until(lambda: "Namanya" in screen.body)
    await owner.send("Gold")
    await owner.until(lambda: "kunjungan" in screen.body)
    assert "10.000" in (await owner.ask("dua")).body  # visits are a number: asked again
    await owner.send("2")
    await owner.until(lambda: "cek sebelum disimpan" in screen.body)
    assert "Poin" not in screen.body  # a stamps shop: no points multiplier to ask
    await owner.press(screen, "Simpan")
    await owner.until(lambda: "<b>Gold</b>" in screen.body)
    await owner.press(screen, "⏳")
    await owner.until(lambda: "Atau ketuk Kembali" in screen.body)
    await owner.send("7")
    await owner.until(lambda: "Tersimpan" in screen.body and "7" in screen.body)

    # The owner makes the bot an admin of the Gold Lounge: asked (in private) which level opens it.
    emulator.add_group(GROUP, "Gold Lounge", owner.id)
    await emulator.promote_bot(GROUP, owner._user())
    question = await owner.next_message()
    assert "Gold Lounge" in question.body
    await owner.press(question, "Gold")
    await owner.until(lambda: "🔒 Gold Lounge" in question.body)
    # Someone else making the bot an admin of their group gets nothing and changes nothing.
    stranger = world.user(777, "Eko", "en")
    emulator.add_group(-1009, "Other", stranger.id)
    await emulator.promote_bot(-1009, stranger._user())

    # A customer's second visit reaches Gold: the news carries a one-person invite.
    customer = world.user(301, "Dewi", "en")
    code = await world.join(customer, join)
    for _ in range(2):
        prompt = await barista.ask(code)
        await barista.press(prompt, "Confirm")
        await customer.next_message()  # the card
    news = await customer.next_message()  # right after the card, not on the scheduler's next turn
    assert "You are now <b>Gold</b> at <b>Kopi Senja</b>" in news.body
    assert "1.5× points" not in news.body  # a stamps shop: no points multiplier to announce
    link = _invite_url(news)
    created = [params for method, params in emulator.state.calls if method == "createchatinvitelink"]
    assert len(created) == 1 and created[0]["member_limit"] == 1 and created[0]["expire_date"]
    card = await customer.ask("/card")
    assert "🏅 Gold" in card.body
    await customer.press(card, "Gold Lounge")  # the news's link may lapse: /card makes a fresh one
    fresh = await customer.next_message()
    assert _invite_url(fresh) != link and "7 days" in fresh.body
    prompt = await barista.ask(code)
    await barista.press(prompt, "Confirm")
    assert "🏅 Gold" in (await customer.next_message()).body  # the card after a purchase shows it too

    # They join; the link lets nobody after them in, and the group's own link lets in only members.
    await emulator.join_by_link(customer._user(), link)
    assert customer.id in emulator.groups[GROUP].members
    try:
        await emulator.join_by_link(stranger._user(), link)
        raise AssertionError("a one-person link let a second person in")
    except Exception as refused:  # noqa: BLE001 - the emulator's refusal
        assert "USERS_TOO_MUCH" in str(refused)
    shared = emulator.call  # the owner shares a link of their own (made here as Telegram would)
    status, body = await shared("createchatinvitelink", {"chat_id": GROUP})
    assert status == 200
    await emulator.join_by_link(stranger._user(), body["result"]["invite_link"])
    unbanned = [method for method, params in emulator.state.calls if method == "unbanchatmember"]
    await emulator.wait_for(
        lambda: [method for method, _ in emulator.state.calls if method == "unbanchatmember"] != unbanned
    )
    lounge = emulator.groups[GROUP]
    assert stranger.id not in lounge.members and stranger.id not in lounge.banned  # out, free to return

    # A year on without a visit: the review warns first, then after the grace period moves down.
    world.clock.advance(days=370)
    assert (await world.sweep()).levels_changed == 1
    await world.deliver()
    warned = next(message for message in customer.unread() if "⏳" in message.body)  # after a survey
    customer.mark_read()
    assert "Visit <b>Kopi Senja</b> 2 more times by" in warned.body and "to keep <b>Gold</b>" in warned.body
    assert customer.id in emulator.groups[GROUP].members
    world.clock.advance(days=3)
    assert (await world.sweep()).levels_changed == 0  # reviewed daily, still within the grace period
    world.clock.advance(days=5)
    assert (await world.sweep()).levels_changed == 1
    await world.deliver()
    dropped = await customer.next_message()
    assert "Your <b>Gold</b> level at <b>Kopi Senja</b> has ended" in dropped.body
    assert "left the members' group" in dropped.body
    assert customer.id not in emulator.groups[GROUP].members
    assert customer.id not in emulator.groups[GROUP].banned
    after = await customer.ask("/card")
    assert "🏅" not in after.body and "2 more visits to reach Gold" in after.body
    assert [b["text"] for b in after.buttons()] == ["🧾 Missing a stamp?"]  # no group's button any more
    forged = await customer.press(card, "Gold Lounge")  # the old /card's button: the level is gone
    assert forged.show_alert and "no longer valid" in (forged.text or "")


async def test_a_group_whose_bot_lost_its_rights_is_let_go(
    world: World, owner: TelegramUser, barista: TelegramUser
) -> None:
    emulator = world.emulator
    join = await world.create_shop()
    await world.hire(owner, barista)
    await world.app.services.tiers.add(owner.id, "Gold; 1")
    emulator.add_group(GROUP, "Gold Lounge", owner.id)
    await emulator.promote_bot(GROUP, owner._user())
    await owner.press(await owner.next_message(), "Gold")
    # The owner takes the bot's admin rights away: the level no longer opens the group ...
    await emulator.demote_bot(GROUP, owner._user())
    for _ in range(100):  # the bot handles the update in its own time
        if (await world.app.services.tiers.levels(owner.id)).levels[0].group_title is None:
            break
        await asyncio.sleep(0.02)
    screen = await owner.ask("/tiers")
    assert "🔒" not in screen.body
    # ... so reaching Gold says so without an invite nobody could use.
    customer = world.user(302, "Rina", "en")
    code = await world.join(customer, join)
    prompt = await barista.ask(code)
    await barista.press(prompt, "Confirm")
    await customer.next_message()  # the card
    news = await customer.next_message()
    assert "You are now <b>Gold</b>" in news.body and not news.buttons() and "invite" not in news.body


async def test_a_level_in_a_points_shop_reads_its_multiplier_as_indonesians_write_it(
    world: World, owner: TelegramUser
) -> None:
    await world.create_shop()
    await world.app.services.merchants.choose_kinds(owner.id, stamps=False, points=True)
    screen = await owner.ask("/tiers")
    await owner.press(screen, "➕")
    await owner.until(lambda: "Namanya" in screen.body)
    await owner.send("Gold")
    await owner.until(lambda: "kunjungan" in screen.body or "belanja" in screen.body)
    await owner.send("10")
    await owner.until(lambda: "kali lipat" in screen.body)
    await owner.send("1,5")
    await owner.until(lambda: "cek sebelum disimpan" in screen.body)
    assert "1,5×" in screen.body and "1.5" not in screen.body
    await owner.press(screen, "Simpan")
    await owner.until(lambda: "<b>Gold</b>" in screen.body)
    assert "1,5× poin" in screen.body and "1.5×" not in screen.body
