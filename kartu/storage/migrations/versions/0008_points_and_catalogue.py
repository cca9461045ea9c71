"""points and catalogue: what a shop runs, point batches and what spends drew on them, the
rewards catalogue, amounts on prompts, owners' notes on the ledger

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 11:23:12.069912

"""

from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate writes sqlmodel types)
from alembic import op

import kartu.storage.types  # noqa: F401

# revision identifiers, used by Alembic.
revision: str = "0008"
down_revision: Union[str, Sequence[str], None] = "0007"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "catalogue_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("points_price", sa.Integer(), nullable=False),
        sa.Column("photo_file_id", sqlmodel.sql.sqltypes.AutoString(length=256), nullable=True),
        sa.Column("stock", sa.Integer(), nullable=True),
        sa.Column("per_customer_limit", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("deleted_at", kartu.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", kartu.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchant.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("catalogue_item", schema=None) as batch_op:
        batch_op.create_index("ix_catalogue_shop", ["merchant_id", "position"], unique=False)

    op.create_table(
        "points_batch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("remaining", sa.Integer(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("earned_at", kartu.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", kartu.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("expired_at", kartu.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchant.id"],
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source"),
    )
    with op.batch_alter_table("points_batch", schema=None) as batch_op:
        batch_op.create_index(
            "ix_points_batch_due",
            ["merchant_id", "expires_at"],
            unique=False,
            sqlite_where=sa.text("remaining > 0"),
            postgresql_where=sa.text("remaining > 0"),
        )
        batch_op.create_index(
            "ix_points_batch_holder", ["merchant_id", "person_id", "expires_at"], unique=False
        )

    op.create_table(
        "points_draw",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("reward_id", sa.Integer(), nullable=True),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["points_batch.id"],
        ),
        sa.ForeignKeyConstraint(
            ["reward_id"],
            ["reward.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("points_draw", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_points_draw_reward_id"), ["reward_id"], unique=False)

    with op.batch_alter_table("card", schema=None) as batch_op:
        batch_op.add_column(sa.Column("points", sa.Integer(), nullable=False, server_default="0"))

    with op.batch_alter_table("ledger_entry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))

    with op.batch_alter_table("program", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("stamps_enabled", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(
            sa.Column("points_enabled", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("rupiah_per_point", sa.Integer(), nullable=False, server_default="10000")
        )
        batch_op.add_column(
            sa.Column("points_minimum_spend", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("points_expiry_months", sa.Integer(), nullable=False, server_default="12")
        )
        batch_op.add_column(
            sa.Column("max_amount", sa.BigInteger(), nullable=False, server_default="100000000")
        )
        batch_op.add_column(sa.Column("return_hours", sa.Integer(), nullable=False, server_default="24"))

    with op.batch_alter_table("purchase_prompt", schema=None) as batch_op:
        batch_op.add_column(sa.Column("amount", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("catalogue_item_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_purchase_prompt_catalogue_item_id_catalogue_item",
            "catalogue_item",
            ["catalogue_item_id"],
            ["id"],
        )

    with op.batch_alter_table("reward", schema=None) as batch_op:
        batch_op.add_column(sa.Column("catalogue_item_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("points_price", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("returned_at", kartu.storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_foreign_key(
            "fk_reward_catalogue_item_id_catalogue_item", "catalogue_item", ["catalogue_item_id"], ["id"]
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("reward", schema=None) as batch_op:
        batch_op.drop_constraint("fk_reward_catalogue_item_id_catalogue_item", type_="foreignkey")
        batch_op.drop_column("returned_at")
        batch_op.drop_column("points_price")
        batch_op.drop_column("catalogue_item_id")

    with op.batch_alter_table("purchase_prompt", schema=None) as batch_op:
        batch_op.drop_constraint("fk_purchase_prompt_catalogue_item_id_catalogue_item", type_="foreignkey")
        batch_op.drop_column("catalogue_item_id")
        batch_op.drop_column("amount")

    with op.batch_alter_table("program", schema=None) as batch_op:
        batch_op.drop_column("return_hours")
        batch_op.drop_column("max_amount")
        batch_op.drop_column("points_expiry_months")
        batch_op.drop_column("points_minimum_spend")
        batch_op.drop_column("rupiah_per_point")
        batch_op.drop_column("points_enabled")
        batch_op.drop_column("stamps_enabled")

    with op.batch_alter_table("ledger_entry", schema=None) as batch_op:
        batch_op.drop_column("note")

    with op.batch_alter_table("card", schema=None) as batch_op:
        batch_op.drop_column("points")

    with op.batch_alter_table("points_draw", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_points_draw_reward_id"))

    op.drop_table("points_draw")
    with op.batch_alter_table("points_batch", schema=None) as batch_op:
        batch_op.drop_index("ix_points_batch_holder")
        batch_op.drop_index("ix_points_batch_due")

    op.drop_table("points_batch")
    with op.batch_alter_table("catalogue_item", schema=None) as batch_op:
        batch_op.drop_index("ix_catalogue_shop")

    op.drop_table("catalogue_item")
