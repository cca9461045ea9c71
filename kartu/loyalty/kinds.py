"""Which units a shop runs (stamps, points, both): the one place every offer follows. Purchases,
bonuses, wheel prizes, what a cause takes, the claim button, /help and /card read `Kinds`; a
setting in a unit the shop does not run is refused when it is saved; and a switch of kinds is
planned here (what customers hold of the unit that stops, what becomes of it) before anything
changes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kartu.loyalty.errors import InvalidSetting

CONVERT_RATE_MAX = 100_000  # points one stamp may become


class Unit(StrEnum):
    STAMPS = "stamps"
    POINTS = "points"


class Leftover(StrEnum):
    """What becomes of the stamps customers hold when a shop stops running stamps."""

    KEEP = "keep"  # cards holding stamps keep collecting them until they fill or lapse
    CONVERT = "convert"  # each stamp becomes a number of points, now


@dataclass(frozen=True)
class Kinds:
    """The units a shop runs. ``stamps_finish``: it stopped running stamps, and cards that still
    hold some keep collecting them until they fill (a reward) or lapse."""

    stamps: bool = True
    points: bool = False
    stamps_finish: bool = False

    @property
    def units(self) -> frozenset[Unit]:
        return frozenset(
            unit for unit, runs in ((Unit.STAMPS, self.stamps), (Unit.POINTS, self.points)) if runs
        )

    def runs(self, unit: Unit | str) -> bool:
        return Unit(unit) in self.units

    @property
    def bonus_unit(self) -> Unit:
        """Bonuses (welcome, birthday, referral) are given in points when the shop runs points."""
        return Unit.POINTS if self.points else Unit.STAMPS

    @property
    def needs_amount(self) -> bool:
        """A purchase is credited on what was spent (points), not only counted (stamps)."""
        return self.points

    def earns_stamps(self, held: int) -> bool:
        """A purchase adds stamps while the shop runs them, or while a card that still holds some
        is finishing them after the shop stopped."""
        return self.stamps or (self.stamps_finish and held > 0)

    def shows_stamps(self, held: int) -> bool:
        """/card and the card picture show stamps while the shop runs them or the card holds some."""
        return self.stamps or held > 0

    def shows_points(self, held: int) -> bool:
        return self.points or held > 0

    def check_unit(self, unit: Unit | str) -> None:
        """A setting in a unit the shop does not run (a wheel prize of stamps in a points shop, what
        a stamp is worth to a cause) is refused when it is saved."""
        if not self.runs(unit):
            raise InvalidSetting(f"runs_{Unit(unit).value}")


@dataclass(frozen=True)
class Holdings:
    """What the shop's customers hold now, per unit: cards and the total."""

    stamp_cards: int = 0
    stamps: int = 0
    point_cards: int = 0
    points: int = 0


@dataclass(frozen=True)
class Switch:
    """A change of kinds, as the owner previews it before it is made."""

    before: Kinds
    after: Kinds
    holdings: Holdings
    # Wheel prizes (their amounts) in a unit that stops: they come off the wheel. Amounts, not the
    # labels stored when they were added, so the preview names them in the owner's language.
    stamp_prizes: tuple[int, ...] = ()
    point_prizes: tuple[int, ...] = ()

    @property
    def stops_stamps(self) -> bool:
        return self.before.stamps and not self.after.stamps

    @property
    def stops_points(self) -> bool:
        return self.before.points and not self.after.points

    @property
    def asks_about_stamps(self) -> bool:
        """Customers hold stamps of a card the shop stops: the owner chooses keep or convert."""
        return self.stops_stamps and self.holdings.stamps > 0

    @property
    def bonus_unit_changes(self) -> bool:
        return self.before.bonus_unit is not self.after.bonus_unit

    @property
    def dropped_prizes(self) -> tuple[tuple[str, int], ...]:
        """(unit, amount) of each prize that comes off: unit "stamps" or "points"."""
        stamps = () if self.after.stamps else tuple(("stamps", amount) for amount in self.stamp_prizes)
        points = () if self.after.points else tuple(("points", amount) for amount in self.point_prizes)
        return stamps + points


def plan_switch(
    before: Kinds,
    stamps: bool,
    points: bool,
    holdings: Holdings,
    stamp_prizes: tuple[int, ...] = (),
    point_prizes: tuple[int, ...] = (),
) -> Switch:
    """The switch to stamps and/or points; `InvalidSetting` for neither."""
    if not stamps and not points:
        raise InvalidSetting("kinds")
    after = Kinds(stamps, points, stamps_finish=before.stamps_finish and not stamps)
    return Switch(before, after, holdings, stamp_prizes, point_prizes)


def after_switch(switch: Switch, leftover: Leftover | None) -> Kinds:
    """The kinds once the switch is made: a shop that stops stamps and keeps them lets cards
    finish; converting (or nobody holding any) leaves nothing to finish."""
    finishing = switch.stops_stamps and switch.asks_about_stamps and leftover is Leftover.KEEP
    return Kinds(
        switch.after.stamps, switch.after.points, stamps_finish=finishing or switch.after.stamps_finish
    )


def parse_rate(text: str | None) -> int:
    """Points one stamp becomes: a whole number from 1 to `CONVERT_RATE_MAX`."""
    cleaned = (text or "").strip().replace(".", "").replace(",", "")
    if not cleaned.isdigit() or not 1 <= int(cleaned) <= CONVERT_RATE_MAX:
        raise InvalidSetting("convert_rate", 1, CONVERT_RATE_MAX)
    return int(cleaned)
