"""The owner's rewards catalogue: add, edit, hide, order and delete what customers buy with points."""

from __future__ import annotations

from dataclasses import dataclass

from kartu.loyalty.errors import InvalidSetting, PointsOff, PromptClosed
from kartu.loyalty.points import (
    LIMIT_MAX,
    STOCK_MAX,
    parse_item_name,
    parse_optional_count,
    parse_price,
)
from kartu.services.access import Workplace, require_owner
from kartu.services.base import ServiceBase
from kartu.storage.models import CatalogueItem
from kartu.storage.unit_of_work import UnitOfWork

# What the owner's form edits on an item, and how each is typed.
ITEM_FIELDS = ("name", "points_price", "stock", "per_customer_limit", "photo")


@dataclass(frozen=True)
class ItemView:
    item_id: int
    name: str
    price: int
    stock: int | None
    per_customer_limit: int | None
    hidden: bool
    photo_file_id: str | None
    taken: int = 0  # rewards of it held by customers (not given back)


@dataclass(frozen=True)
class CatalogueAdminView:
    merchant_name: str
    items: tuple[ItemView, ...]


def _view(item: CatalogueItem) -> ItemView:
    return ItemView(
        item.id or 0,
        item.name,
        item.points_price,
        item.stock,
        item.per_customer_limit,
        item.hidden,
        item.photo_file_id,
    )


class CatalogueService(ServiceBase):
    async def _place(self, uow: UnitOfWork, owner_telegram_id: int) -> Workplace:
        place = await require_owner(uow, owner_telegram_id)
        if not place.program.points_enabled:
            raise PointsOff()
        return place

    async def _item(self, uow: UnitOfWork, place: Workplace, item_id: int) -> CatalogueItem:
        item = await uow.catalogue.get(item_id, place.merchant.id or 0)
        if item is None:
            raise PromptClosed("missing")  # deleted meanwhile, or another shop's
        return item

    async def items(self, owner_telegram_id: int) -> CatalogueAdminView:
        async with self.db.read() as uow:
            place = await self._place(uow, owner_telegram_id)
            items = await uow.catalogue.items(place.merchant.id or 0)
            return CatalogueAdminView(place.merchant.name, tuple(_view(item) for item in items))

    async def item(self, owner_telegram_id: int, item_id: int) -> ItemView:
        async with self.db.read() as uow:
            place = await self._place(uow, owner_telegram_id)
            return _view(await self._item(uow, place, item_id))

    async def add(
        self, owner_telegram_id: int, name: str, price: str, photo_file_id: str | None = None
    ) -> ItemView:
        """A new reward at the end of the catalogue, shown to customers at once."""
        item_name, points_price = parse_item_name(name), parse_price(price)
        async with self.db.write() as uow:
            place = await self._place(uow, owner_telegram_id)
            item = await uow.catalogue.add(
                CatalogueItem(
                    merchant_id=place.merchant.id or 0,
                    name=item_name,
                    points_price=points_price,
                    photo_file_id=photo_file_id,
                    created_at=self.clock.now(),
                )
            )
            return _view(item)

    async def change(self, owner_telegram_id: int, item_id: int, field: str, value: str | None) -> ItemView:
        """One field of an item from what the owner typed (a photo: its file id, or None to drop it)."""
        match field:
            case "name":
                changes: dict[str, object] = {"name": parse_item_name(value)}
            case "points_price":
                changes = {"points_price": parse_price(value)}
            case "stock":
                changes = {"stock": parse_optional_count(field, value, 0, STOCK_MAX)}
            case "per_customer_limit":
                changes = {"per_customer_limit": parse_optional_count(field, value, 1, LIMIT_MAX)}
            case "photo":
                changes = {"photo_file_id": value or None}
            case _:
                raise InvalidSetting(field)
        async with self.db.write() as uow:
            place = await self._place(uow, owner_telegram_id)
            item = await self._item(uow, place, item_id)
            for name, new in changes.items():
                setattr(item, name, new)
            await uow.catalogue.save(item)
            return _view(item)

    async def toggle_hidden(self, owner_telegram_id: int, item_id: int) -> ItemView:
        async with self.db.write() as uow:
            place = await self._place(uow, owner_telegram_id)
            item = await self._item(uow, place, item_id)
            item.hidden = not item.hidden
            await uow.catalogue.save(item)
            return _view(item)

    async def move_up(self, owner_telegram_id: int, item_id: int) -> CatalogueAdminView:
        """Swap the item with the one above it (customers see the catalogue in this order)."""
        async with self.db.write() as uow:
            place = await self._place(uow, owner_telegram_id)
            item = await self._item(uow, place, item_id)
            items = list(await uow.catalogue.items(place.merchant.id or 0))
            at = next(index for index, other in enumerate(items) if other.id == item.id)
            if at > 0:
                items[at - 1], items[at] = items[at], items[at - 1]
            for position, other in enumerate(items, start=1):
                if other.position != position:
                    other.position = position
                    await uow.catalogue.save(other)
            return CatalogueAdminView(place.merchant.name, tuple(_view(other) for other in items))

    async def delete(self, owner_telegram_id: int, item_id: int) -> str:
        """Take the item out of the catalogue; rewards already taken stay valid."""
        async with self.db.write() as uow:
            place = await self._place(uow, owner_telegram_id)
            item = await self._item(uow, place, item_id)
            item.deleted_at = self.clock.now()
            await uow.catalogue.save(item)
            return item.name
