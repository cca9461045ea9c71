"""membership: paid memberships in Telegram Stars (offers, members, payments)

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-24 16:14:12.745776

"""

from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate writes sqlmodel types)
from alembic import op

import kartu.storage.types  # noqa: F401

# revision identifiers, used by Alembic.
revision: str = "0014"
down_revision: Union[str, Sequence[str], None] = "0013"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "membership_offer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("stars", sa.Integer(), nullable=False),
        sa.Column("multiplier_permille", sa.Integer(), nullable=False),
        sa.Column("monthly_item_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", kartu.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchant.id"],
        ),
        sa.ForeignKeyConstraint(
            ["monthly_item_id"],
            ["catalogue_item.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("membership_offer", schema=None) as batch_op:
        batch_op.create_index("ix_membership_offer_shop", ["merchant_id", "active"], unique=False)

    op.create_table(
        "membership",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("renews", sa.Boolean(), nullable=False),
        sa.Column("charge_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("paid_until", kartu.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reminded_at", kartu.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("started_at", kartu.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", kartu.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchant.id"],
        ),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["membership_offer.id"],
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("merchant_id", "person_id", name="uq_membership_holder"),
    )
    op.create_table(
        "star_payment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("membership_id", sa.Integer(), nullable=False),
        sa.Column("charge_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("stars", sa.Integer(), nullable=False),
        sa.Column("paid_at", kartu.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("period_end", kartu.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("refunded_at", kartu.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["membership_id"],
            ["membership.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("charge_id", name="uq_star_payment_charge_id"),
    )
    with op.batch_alter_table("star_payment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_star_payment_membership_id"), ["membership_id"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("star_payment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_star_payment_membership_id"))

    op.drop_table("star_payment")
    op.drop_table("membership")
    with op.batch_alter_table("membership_offer", schema=None) as batch_op:
        batch_op.drop_index("ix_membership_offer_shop")

    op.drop_table("membership_offer")
