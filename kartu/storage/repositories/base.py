"""What every repository shares: the transaction's session, and inserts of random unique values."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

Row = TypeVar("Row")
UNIQUE_RETRIES = 8


class Repository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _insert_unique(
        self, make_row: Callable[[], Row], existing: Callable[[Row], Awaitable[Row | None]] | None = None
    ) -> Row:
        """Insert a row whose random unique value may collide; draw again on a collision.
        ``existing`` finds the row a concurrent transaction inserted for the same natural key
        (a double-tapped /start): that conflict is not a collision, and that row is the answer."""
        for _ in range(UNIQUE_RETRIES):
            row = make_row()
            try:
                async with self.session.begin_nested():
                    self.session.add(row)
                    await self.session.flush()
                return row
            except IntegrityError:
                if existing is not None and (found := await existing(row)) is not None:
                    return found
                continue
        raise RuntimeError("could not draw a unique value")
