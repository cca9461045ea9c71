"""outlet: a business's branches; every shop becomes a business with one outlet, named as it, with
its slug, address, location and time zone (every link, code, key and webhook keeps working)

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-08 00:45:00
"""

from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

import kartu.storage.types

# revision identifiers, used by Alembic.
revision: str = "0030"
down_revision: Union[str, Sequence[str], None] = "0029"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "outlet",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("slug", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("timezone", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", kartu.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["merchant_id"], ["merchant.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("slug"),
    )
    op.create_index(op.f("ix_outlet_merchant_id"), "outlet", ["merchant_id"], unique=False)
    op.execute(
        "INSERT INTO outlet (merchant_id, slug, name, address, latitude, longitude, timezone, created_at) "
        "SELECT id, slug, name, address, latitude, longitude, timezone, created_at FROM merchant ORDER BY id"
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f("ix_outlet_merchant_id"), table_name="outlet")
    op.drop_table("outlet")
