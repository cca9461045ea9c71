"""The polite, translated sentence for each refusal a person can meet."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from kartu.loyalty import errors
from kartu.loyalty.exports import ExportOnItsWay
from kartu.loyalty.numbers import format_amount
from kartu.loyalty.receipts import ReceiptRefused
from kartu.presenters.format import odds_text, plain


def explain(error: errors.LoyaltyError) -> str:
    """The polite, translated sentence for each refusal, as plain text (sent without parse mode)."""
    match error:
        case ReceiptRefused(reason="claimed"):
            return _("This receipt was already used: its purchase is on someone's card.")
        case ReceiptRefused(reason="expired"):
            return _("This receipt has expired: its link works for a limited time.")
        case ReceiptRefused(reason="void"):
            return _("The shop cancelled this receipt: it credits nothing.")
        case ReceiptRefused(reason="throttled"):
            return _("Too many receipt links in a minute. Please wait a moment and try again.")
        case ReceiptRefused():
            return _("That receipt link is not valid. Please scan the code on your receipt again.")
        case errors.LinkCodeInvalid():
            return _(
                "That code does not link anything: it may be mistyped, used, or older than ten minutes. "
                "Send /whatsapp in Telegram for a new one."
            )
        case errors.HasOwnCard():
            return _(
                "This WhatsApp already has a card of its own, so it cannot take your Telegram one too. "
                "Send FORGET here first if you want to keep only the Telegram one."
            )
        case errors.UnknownCode():
            return _("I don't know that code. Please check it and try again.")
        case errors.NotStaff():
            return _("Only staff of this shop can do that.")
        case errors.MergeRefused(reason="same"):
            return _("A shop cannot be merged into itself: /shop switches to the business that should stay.")
        case errors.MergeRefused(reason="merged"):
            return _("That shop was merged into a business already.")
        case errors.MergeRefused():
            return _("Only someone who owns both shops can merge them.")
        case errors.OtherOutlet():
            return _("That belongs to another outlet: its own team and the owners look after it.")
        case errors.NotOwner(acting_for=str() as shop):
            return plain(
                _("You are acting for {shop}, where you are staff. Send /shop to switch to a shop you own."),
                shop=shop,
            )
        case errors.NotOwner():
            return _("Only the shop owner can do that.")
        case errors.OwnCodeShown(reward=True):
            return _("That is your reward code 🎁 Show it to staff at the counter to use it.")
        case errors.OwnCodeShown():
            return _(
                "That is your own code 🙂 Show it at the counter when you pay, and staff will add your stamp."
            )
        case errors.TooManyUnknownCodes():
            return _(
                "Too many unknown codes in a minute. Please wait a moment and check the code with the customer."
            )
        case errors.CodeEntryLocked():
            return _(
                "Code entry is locked for your account after too many unknown codes. Ask the owner to unlock it in /staff."
            )
        case errors.TooManyRewardsAtOnce():
            return plain(
                _(
                    "That would fill more than {maximum} cards at once. Please confirm fewer purchases at a time."
                ),
                maximum=error.maximum,
            )
        case errors.LastOwner():
            return _("A shop needs at least one owner. Invite another owner first.")
        case errors.NotAdmin():
            return _("Only platform admins can do that.")
        case errors.NotMember():
            return _("You have not joined a shop yet. Open your shop's link or scan its QR code to join.")
        case errors.UnknownMerchant():
            return _("That link does not lead to any shop. Please ask the shop for its current link.")
        case errors.OwnPurchase():
            return _("You cannot confirm a purchase on your own card. Ask a colleague.")
        case errors.DailyCapReached(remaining=0):
            return plain(
                _(
                    "Nothing was added: {name} already got today's {cap} stamps, the shop's daily limit. They can collect again tomorrow."
                ),
                name=error.customer_first_name or "—",
                cap=error.cap,
            )
        case errors.DailyCapReached():
            return plain(
                ngettext(
                    "Nothing was added: {name} can get only {remaining} more stamp today (daily limit {cap}). Confirm fewer purchases.",
                    "Nothing was added: {name} can get only {remaining} more stamps today (daily limit {cap}). Confirm fewer purchases.",
                    error.remaining,
                ),
                name=error.customer_first_name or "—",
                remaining=error.remaining,
                cap=error.cap,
            )
        case errors.PromptClosed(status="confirmed"):
            return _("This purchase was already confirmed.")
        case errors.ClaimTooSoon():
            return plain(
                _(
                    "Staff could not confirm your last claim. You can claim again in {minutes} min — or just ask at the counter."
                ),
                minutes=error.minutes,
            )
        case errors.ClaimAlreadyOpen():
            return _("You already told us about this purchase. Staff will confirm it in a moment.")
        case errors.ClaimClosed(status="approved", decided_by=str() as who):
            return plain(_("Already approved by {name}."), name=who)
        case errors.ClaimClosed(status="rejected", decided_by=str() as who):
            return plain(_("Already rejected by {name}."), name=who)
        case errors.ClaimClosed(status="expired"):
            return _("This claim expired: claims are open for 30 minutes.")
        case errors.ClaimClosed():
            return _("This request is no longer valid.")
        case errors.InvalidBirthday():
            return _("Please send the day and month of your birthday, like 17-08 or 17 Agustus.")
        case errors.BirthdayLocked():
            return _(
                "Your birthday was set less than a year ago, so it cannot change yet. Send /birthday to see when it can."
            )
        case errors.SelfReferral():
            return _(
                "That is your own invite link 🙂 Send it to a friend: you both get the bonus after their first purchase."
            )
        case errors.InvalidSetting(minimum=int() as low, maximum=int() as high) if error.field in (
            "welcome_bonus",
            "birthday_bonus",
            "referral_bonus",
        ):
            return plain(
                _("Please send a whole number from {low} to {high} (0 turns it off)."), low=low, high=high
            )
        case errors.ClaimNeedsAmount():
            return _("Tell us how much you spent, so your points can be added: like /claim 25000.")
        case errors.InvalidSaleAmount():
            return plain(
                _(
                    "Please send the amount the customer spent, from Rp 1 to Rp {maximum}: like 125000, 125.000, 125rb or Rp125.000."
                ),
                maximum=format_amount(error.maximum),
            )
        case errors.AmountNeeded():
            return _("Please send the amount the customer spent, like /buy CODE 125000.")
        case errors.PointsOff(stamps=True):
            return _("This shop runs points only: send the code and then the amount.")
        case errors.PointsOff():
            return _("This shop does not run points. The owner can turn them on in /program.")
        case errors.BelowMinimumSpend():
            return plain(
                _("That amount earns no points: points start at Rp {minimum}. Nothing was added."),
                minimum=format_amount(error.minimum),
            )
        case errors.NotEnoughPoints():
            return plain(
                _("You have {balance} points; this reward needs {price}. Keep collecting!"),
                balance=error.balance,
                price=error.price,
            )
        case errors.RewardUnavailable(sold_out=True):
            return _("Sorry, this reward is sold out. Your points were not used.")
        case errors.RewardUnavailable():
            return _(
                "Sorry, this reward is no longer in the catalogue. Your points were not used. Send /rewards."
            )
        case errors.RewardLimitReached():
            return plain(
                ngettext(
                    "You already got this reward: it is limited to {limit} per customer.",
                    "You already got this reward {limit} times, the most one customer may.",
                    error.limit,
                ),
                limit=error.limit,
            )
        case errors.ReturnClosed(reason="redeemed"):
            return _("This reward was already used, so it cannot be given back.")
        case errors.ReturnClosed(reason="returned"):
            return _("This reward was already given back.")
        case errors.ReturnClosed():
            return _("The time to give this reward back is over. It stays yours to use until it expires.")
        case errors.InvalidAdjustment():
            return plain(
                _(
                    "Send it like this: /adjust CODE +50 reason (or -20 and a reason). Up to {maximum} points at a time, and a reason is needed."
                ),
                maximum=error.maximum,
            )
        case errors.BalanceWouldGoNegative():
            return plain(
                _("The customer has only {balance} points; nothing was taken."), balance=error.balance
            )
        case ExportOnItsWay():
            return _(
                "⏳ Your shop's export is being prepared: its files arrive here when ready. There is no need to ask again."
            )
        case errors.PromptClosed(status="exported"):
            return _("This export was already made. Send /export for a new one.")
        case errors.PromptClosed(status="decided"):
            return _("This proposal was already answered.")
        case errors.PromptClosed(status="spun"):
            return _("You have no spin left. A purchase can earn the next one.")
        case errors.PromptClosed(status="given"):
            return _("You already gave this. Thank you!")
        case errors.PromptClosed(status="exchanged"):
            return _("You already got this reward: its code is in the chat.")
        case errors.InvalidAmount():
            return plain(
                _("Please send the amount in rupiah as a number from 1 to {maximum}, like /claim 25000."),
                maximum=format_amount(error.maximum),
            )
        case errors.BroadcastRunning():
            return _("A broadcast is still going out. Wait until it finishes, or cancel it first.")
        case errors.NobodyToReach():
            return _("Nobody in that group can get a broadcast right now.")
        case errors.PromptClosed(status="finished"):
            return _("This broadcast has already finished.")
        case errors.PromptClosed(status="rated"):
            return _("You already rated this visit. Thank you!")
        case errors.PromptClosed(status="cancelled"):
            return _("This purchase was cancelled.")
        case errors.PromptClosed(status="expired"):
            return _("This request is no longer valid. Please send the customer's code again.")
        case errors.PromptClosed():
            return _("This button is no longer valid.")
        case errors.InviteForSomeoneElse():
            return _(
                "This owner link was made for someone else's Telegram account. Ask whoever sent it to you."
            )
        case errors.InviteInvalid():
            return _("This invite link is not valid any more (used or expired). Ask the owner for a new one.")
        case errors.RewardExpired():
            return _("This reward code has expired.")
        case errors.RewardAlreadyRedeemed():
            return _("This reward was already redeemed.")
        case errors.InvalidPurchaseCount():
            return plain(_("The number of purchases must be between 1 and {maximum}."), maximum=error.maximum)
        case errors.NoCause():
            return _("There is no cause running at this shop right now.")
        case errors.CauseRunning():
            return _("A cause is already running. End it in /causes before starting another.")
        case errors.CauseTakesNot():
            return _("This cause does not take that kind of gift. Nothing was given.")
        case errors.NothingToGive(asset="reward"):
            return _("That reward can no longer be given (used, given or expired). Nothing was given.")
        case errors.NothingToGive():
            return _("You do not hold that many now. Nothing was given.")
        case errors.InvalidSetting() if error.field == "url":
            return _(
                "Please send the full address of your system, starting with https:// (a public address, up to 500 characters)."
            )
        case errors.InvalidSetting() if error.field == "events":
            return _("A webhook takes at least one event. To stop them all, delete it.")
        case errors.InvalidSetting() if error.field == "endpoints":
            return _("A shop can have up to 5 webhooks. Delete one in /webhooks first.")
        case errors.InvalidSetting() if error.field == "partner_unknown":
            return _(
                "No shop has that code. Ask its owner for the code /partners shows them, or their join link."
            )
        case errors.InvalidSetting() if error.field == "partner_outlet":
            return _("That is not one of your outlets. Pick one of the buttons.")
        case errors.InvalidSetting() if error.field == "partner_self":
            return _("That is your own shop. A partnership is with another shop.")
        case errors.InvalidSetting() if error.field == "partner_exists":
            return _(
                "You already have a partnership or a proposal with that shop. End it in /partners first."
            )
        case errors.InvalidSetting() if error.field == "partner_condition":
            return _("Please send over 500.000 (one purchase of at least that) or 5 visits.")
        case errors.InvalidSetting() if error.field == "partner_voucher":
            return _(
                "Please send it like 10% off any ring; 50.000; terms (up to 64 characters for the voucher)."
            )
        case errors.InvalidSetting() if error.field == "partner_limits":
            return _("Please send it like 30 days; 100 a month (1 to 365 days, 1 to 100.000 a month).")
        case errors.InvalidSetting(maximum=int() as high) if error.field == "address":
            return plain(_("Please keep the address to {high} characters, or send - for none."), high=high)
        case errors.InvalidSetting() if error.field == "location":
            return _("That location cannot be used. Please send your shop's location again.")
        case errors.InvalidSetting() if error.field == "membership":
            return _(
                "Please send it like Gold Club; 100; 1.5; Iced Latte (name; Stars per 30 days; multiplier; free reward)."
            )
        case errors.InvalidSetting(maximum=int() as high) if error.field == "membership_name":
            return plain(_("Please give the membership a name of 1 to {high} characters."), high=high)
        case errors.InvalidSetting(maximum=int() as high) if error.field == "membership_stars":
            return plain(_("Please send the price in Stars, a whole number from 1 to {high}."), high=high)
        case errors.InvalidSetting() if error.field == "prize":
            return _(
                "Please send the prize like 2 stamps; 25%; 10/day — or 50 points; 10% — or a catalogue reward: Iced Latte; 5%."
            )
        case errors.InvalidSetting() if error.field == "odds":
            return _("Please send the odds as a percentage, like 25% or 2,5%.")
        case errors.InvalidSetting(maximum=int() as high) if error.field == "odds_total":
            return plain(
                _("The odds of all prizes may not sum over 100%. This one can be at most {odds}."),
                odds=odds_text(high),
            )
        case errors.InvalidSetting() if error.field == "prize_budget":
            return _("Please send budgets like 10/day or 200/month.")
        case errors.InvalidSetting(maximum=int() as high) if error.field == "prize_amount":
            return plain(_("A prize gives from 1 to {high} stamps or points."), high=high)
        case errors.InvalidSetting() if error.field == "prize_item":
            return _(
                "There is no reward of that name in /catalogue. Add it there first, or check the spelling."
            )
        case errors.InvalidSetting() if error.field == "runs_points":
            return _("This shop does not run points. Turn them on in /program first.")
        case errors.InvalidSetting() if error.field == "runs_stamps":
            return _("This shop does not run stamps. Turn them on in /program first.")
        case errors.InvalidSetting(maximum=int() as high) if error.field == "convert_rate":
            return plain(
                _("Send how many points one stamp becomes: a whole number from 1 to {high}."), high=high
            )
        case errors.InvalidSetting(maximum=int() as high) if error.field == "prizes":
            return plain(_("A wheel can have up to {high} prizes. Delete one first."), high=high)
        case errors.InvalidSetting() if error.field == "spin_rule":
            return _("Please send every, every 3, over 100.000, or off.")
        case errors.InvalidSetting() if error.field == "cause":
            return _(
                "Please send the cause in one line: name; target; last day — like Rumah Kucing; 5.000.000; 31-12-2026."
            )
        case errors.InvalidSetting(maximum=int() as high) if error.field == "cause_name":
            return plain(_("Please give the cause a name of 1 to {high} characters."), high=high)
        case errors.InvalidSetting(maximum=int() as high) if error.field == "cause_target":
            return plain(
                _("Please send the target in rupiah, from Rp 1 to Rp {high}, like 5.000.000."),
                high=format_amount(high),
            )
        case errors.InvalidSetting() if error.field == "cause_end":
            return _(
                "Please send the last day like 31-12-2026 or 31 Des 2026: after today and within three years."
            )
        case errors.InvalidSetting() if error.field == "cause_match":
            return _(
                "Please send it like 10.000 per 100.000 (the gift is not more than the spend), or - for nothing."
            )
        case errors.InvalidSetting(maximum=int() as high) if error.field == "cause_value":
            return plain(
                _("Please send an amount in rupiah up to Rp {high}, like 100, or - to not accept them."),
                high=format_amount(high),
            )
        case errors.InvalidSetting(maximum=int() as high) if error.field == "cause_description":
            return plain(
                _("Please keep the description to {high} characters, or send - for none."), high=high
            )
        case errors.InvalidSetting() if error.field == "payout":
            return _(
                "Please send it like 500.000; 24-11-2026; transfer BCA (a day up to today; the note may be left out)."
            )
        case errors.InvalidSetting() if error.field == "level":
            return _(
                "Please send the level in one line: name; threshold; multiplier — like Gold; 1.000.000; 1.5 (the multiplier may be left out)."
            )
        case errors.InvalidSetting(maximum=int() as high) if error.field == "tier_name":
            return plain(_("Please give the level a name of 1 to {high} characters."), high=high)
        case errors.InvalidSetting() if error.field == "multiplier":
            return _("Please send the multiplier from 1 to 5, like 1.5 or 150%.")
        case errors.InvalidSetting(maximum=int() as high) if error.field == "spend_threshold":
            return plain(
                _(
                    "Please send the spend to reach the level in rupiah, from Rp 1 to Rp {high}, like 1.000.000."
                ),
                high=format_amount(high),
            )
        case errors.InvalidSetting(maximum=int() as high) if error.field == "levels":
            return plain(_("A shop can have up to {high} levels. Delete one first."), high=high)
        case errors.InvalidSetting() if error.field == "level_threshold_taken":
            return _("Another level already starts at that threshold. Pick a different one.")
        case errors.InvalidSetting(maximum=int() as high) if error.field == "perks":
            return plain(_("Please keep the perks to {high} characters, or send - for none."), high=high)
        case errors.InvalidSetting() if error.field == "quiet_hours":
            return _("Please send the quiet hours like 21-8 or 22:30-07:00, or 0 for none.")
        case errors.InvalidSetting(maximum=int() as high) if error.field == "reminder_days":
            return plain(
                _("Please send up to three numbers of days from 1 to {high}, like 7,1 — or 0 for none."),
                high=high,
            )
        case errors.InvalidSetting(maximum=int() as high) if error.field == "item_name":
            return plain(_("Please send a name of 1 to {high} characters."), high=high)
        case errors.InvalidSetting(minimum=int() as low, maximum=int() as high) if error.field in (
            "stock",
            "per_customer_limit",
        ):
            return plain(
                _("Please send a whole number from {low} to {high}, or - for no limit."), low=low, high=high
            )
        case errors.InvalidSetting(minimum=int() as low, maximum=int() as high) if error.field in (
            "rupiah_per_point",
            "points_minimum_spend",
            "max_amount",
        ):
            return plain(
                _("Please send an amount in rupiah from {low} to {high}, like 10.000 or 10rb."),
                low=format_amount(low),
                high=format_amount(high),
            )
        case errors.InvalidSetting(minimum=int() as low, maximum=int() as high) if (
            error.field == "reward_name"
        ):
            return plain(_("Please send a reward name of {low} to {high} characters."), low=low, high=high)
        case errors.InvalidSetting(minimum=int() as low, maximum=int() as high):
            return plain(_("Please send a whole number from {low} to {high}."), low=low, high=high)
    return _("Sorry, that did not work. Please try again.")
