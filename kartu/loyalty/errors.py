"""Specific reasons a loyalty action is refused. The handler layer turns each into a polite reply."""

from __future__ import annotations


class LoyaltyError(Exception):
    """Base of every refusal that a user may cause and should be told about."""


class UnknownCode(LoyaltyError):
    """No customer or reward has this code (or it is malformed)."""


class NotStaff(LoyaltyError):
    """The user is not active staff of the merchant concerned."""


class OtherOutlet(LoyaltyError):
    """It happened at (or belongs to) an outlet of the business this member does not work at."""


class NotOwner(LoyaltyError):
    """The action needs the owner of the merchant (``acting_for``: the shop the person acts
    for, where they are staff, when they own another one and should switch)."""

    def __init__(self, acting_for: str | None = None) -> None:
        super().__init__(acting_for or "")
        self.acting_for = acting_for


class OwnCodeShown(LoyaltyError):
    """A customer sent their own code (or reward code) to the bot instead of showing it."""

    def __init__(self, reward: bool) -> None:
        super().__init__("reward" if reward else "personal")
        self.reward = reward


class TooManyUnknownCodes(LoyaltyError):
    """This staff account typed too many unknown codes this minute."""


class CodeEntryLocked(LoyaltyError):
    """Code entry is locked for this staff account until an owner unlocks it."""


class TooManyRewardsAtOnce(LoyaltyError):
    """One purchase would fill more cards than one confirmation may."""

    def __init__(self, maximum: int) -> None:
        super().__init__(maximum)
        self.maximum = maximum


class ProgramChangeAffectsCards(LoyaltyError):
    """Lowering "stamps required" caps cards holding more: the owner confirms first."""

    def __init__(self, cards: int, stamps_required: int) -> None:
        super().__init__(cards)
        self.cards = cards
        self.stamps_required = stamps_required


class LastOwner(LoyaltyError):
    """A shop cannot be left without an owner."""


class NotAdmin(LoyaltyError):
    """The action needs a platform admin."""


class NotMember(LoyaltyError):
    """The user has not joined any merchant yet."""


class UnknownMerchant(LoyaltyError):
    """The join link names a merchant that does not exist."""


class OwnPurchase(LoyaltyError):
    """Staff tried to stamp their own card."""


class DailyCapReached(LoyaltyError):
    """The customer already got today's maximum of stamps."""

    def __init__(
        self,
        remaining: int,
        cap: int,
        customer_first_name: str = "",
        merchant_name: str = "",
        customer_chat: tuple[int, str] | None = None,
    ) -> None:
        super().__init__(f"daily cap {cap}, {remaining} left today")
        self.remaining = remaining
        self.cap = cap
        self.customer_first_name = customer_first_name
        self.merchant_name = merchant_name
        self.customer_chat = customer_chat  # (telegram id, language): the customer hears it too

    def about(
        self, customer_first_name: str, merchant_name: str, customer_chat: tuple[int, str]
    ) -> DailyCapReached:
        """The same refusal, naming whose card it is, so staff and customer each hear their part."""
        return DailyCapReached(self.remaining, self.cap, customer_first_name, merchant_name, customer_chat)


class PromptClosed(LoyaltyError):
    """The confirmation prompt was already decided, cancelled or is too old."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


class InviteInvalid(LoyaltyError):
    """The invite link is unknown, used or expired."""


class InviteForSomeoneElse(LoyaltyError):
    """An owner link made for one @username, opened by someone else (it stays unused)."""


class DuplicateMerchantName(LoyaltyError):
    """The operator is creating a shop whose name another shop already has."""

    def __init__(self, slug: str) -> None:
        super().__init__(f"a merchant with this name exists: {slug}")
        self.slug = slug


class RewardExpired(LoyaltyError):
    """The reward code is past its validity."""


class RewardAlreadyRedeemed(LoyaltyError):
    """The reward code was redeemed before."""


class InvalidSetting(LoyaltyError):
    """A program setting value is out of range."""

    def __init__(self, field: str, minimum: int | None = None, maximum: int | None = None) -> None:
        super().__init__(field)
        self.field = field
        self.minimum = minimum
        self.maximum = maximum


class InvalidPurchaseCount(LoyaltyError):
    """The number of purchases given with /stamp is not a small positive number."""

    def __init__(self, maximum: int) -> None:
        super().__init__(maximum)
        self.maximum = maximum


class ClaimAlreadyOpen(LoyaltyError):
    """The customer already has a claim waiting at this merchant."""


class ClaimTooSoon(LoyaltyError):
    """The customer's last claim was rejected a short while ago: they wait before the next."""

    def __init__(self, minutes: int) -> None:
        super().__init__(minutes)
        self.minutes = minutes


class ClaimClosed(LoyaltyError):
    """The claim was decided already, or expired."""

    def __init__(self, status: str, decided_by: str | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.decided_by = decided_by


class InvalidAmount(LoyaltyError):
    """The amount given with /claim is not a plausible amount."""

    def __init__(self, maximum: int) -> None:
        super().__init__(maximum)
        self.maximum = maximum


class BroadcastRunning(LoyaltyError):
    """The merchant already has a broadcast going out."""


class NobodyToReach(LoyaltyError):
    """The chosen segment has nobody who may receive a broadcast now."""


class AmountNeeded(LoyaltyError):
    """The shop runs points: staff say how much the customer spent before Confirm.

    Carries the typed code and the customer's name so the question can name them."""

    def __init__(self, code: str, customer_first_name: str) -> None:
        super().__init__(code)
        self.code = code
        self.customer_first_name = customer_first_name


class PointsOff(LoyaltyError):
    """The shop does not run points (or, with ``stamps=True``, no longer runs stamps)."""

    def __init__(self, stamps: bool = False) -> None:
        super().__init__("stamps" if stamps else "points")
        self.stamps = stamps


class BelowMinimumSpend(LoyaltyError):
    """The amount earns no points: under the shop's minimum spend, or under one point's worth."""

    def __init__(self, minimum: int) -> None:
        super().__init__(minimum)
        self.minimum = minimum


class NotEnoughPoints(LoyaltyError):
    """A spend larger than the live balance."""

    def __init__(self, balance: int, price: int) -> None:
        super().__init__(f"{balance} < {price}")
        self.balance = balance
        self.price = price


class RewardUnavailable(LoyaltyError):
    """The catalogue reward was hidden or deleted since it was shown (``sold_out``: no stock left)."""

    def __init__(self, sold_out: bool = False) -> None:
        super().__init__("sold out" if sold_out else "unavailable")
        self.sold_out = sold_out


class RewardLimitReached(LoyaltyError):
    """The customer already holds as many of this reward as one person may."""

    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit


class ReturnClosed(LoyaltyError):
    """The reward cannot be given back: used, returned, expired, or past the return window."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InvalidAdjustment(LoyaltyError):
    """``/adjust`` needs a signed number of points and a reason."""

    def __init__(self, maximum: int) -> None:
        super().__init__(maximum)
        self.maximum = maximum


class BalanceWouldGoNegative(LoyaltyError):
    """Taking more points by hand than the customer holds."""

    def __init__(self, balance: int) -> None:
        super().__init__(balance)
        self.balance = balance


class InvalidSaleAmount(InvalidAmount):
    """The amount staff typed for a purchase is not one (negative, zero, malformed, over the limit)."""


class ClaimNeedsAmount(LoyaltyError):
    """A shop running points needs the amount with a claim (points are earned on it)."""


class InvalidBirthday(LoyaltyError):
    """Not a day and month (like 17-08 or 17 Agustus)."""


class BirthdayLocked(LoyaltyError):
    """The birthday was set less than a year ago: it can change again from ``until``."""

    def __init__(self, until: object) -> None:
        super().__init__(str(until))
        self.until = until


class SelfReferral(LoyaltyError):
    """A customer opened their own invite link."""


class NoCause(LoyaltyError):
    """The shop has no cause running (or the one a button named has closed)."""


class CauseTakesNot(LoyaltyError):
    """The cause does not take this kind of gift (points, stamps or rewards)."""

    def __init__(self, asset: str) -> None:
        super().__init__(asset)
        self.asset = asset


class NothingToGive(LoyaltyError):
    """The customer holds none of what they offered to give (points, stamps, an unused reward)."""

    def __init__(self, asset: str) -> None:
        super().__init__(asset)
        self.asset = asset


class CauseRunning(LoyaltyError):
    """The owner starts a cause while another is running."""


class PaymentMismatch(LoyaltyError):
    """A Stars payment whose currency or amount is not the offer's: it grants nothing, and is
    refunded (``stars``: what the offer costs)."""

    def __init__(self, stars: int) -> None:
        super().__init__(stars)
        self.stars = stars


class LinkCodeInvalid(LoyaltyError):
    """A code to link a messenger that is unknown, used, or older than its ten minutes."""


class HasOwnCard(LoyaltyError):
    """This messenger identity already holds cards of its own: linking would merge two people."""


class MergeRefused(LoyaltyError):
    """A merge that cannot be: a shop into itself (``same``), one of them merged before
    (``merged``), or by someone who does not own both (``owner``)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
