"""the shop's days counted as the ledger grows (daily_tally, tally_mark), card.visits, and the
indexes /stats counts members by

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 18:30:00

The counts start empty with their marks at zero: the scheduler's sweep (or /stats, or `kartu db
retally`) counts the existing ledger once, in batches, and then only what is new.
"""

from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

import kartu.storage.types

# revision identifiers, used by Alembic.
revision: str = "0026"
down_revision: Union[str, Sequence[str], None] = "0025"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

COUNTS = (
    "visits", "first_visits", "stamps_earned", "stamps_spent", "stamps_expired", "points_earned",
    "points_spent", "points_expired", "rewards_issued", "rewards_redeemed", "ratings", "rating_sum",
)  # fmt: skip
BIG = ("points_earned", "points_spent", "points_expired")


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "daily_tally",
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        *(
            sa.Column(
                name, sa.BigInteger() if name in BIG else sa.Integer(), nullable=False, server_default="0"
            )
            for name in COUNTS
        ),
        sa.ForeignKeyConstraint(["merchant_id"], ["merchant.id"]),
        sa.PrimaryKeyConstraint("merchant_id", "day"),
    )
    op.create_table(
        "tally_mark",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("last_id", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("last_at", kartu.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name"),
    )
    marks = sa.table("tally_mark", sa.column("name", sa.String()), sa.column("last_id", sa.BigInteger()))
    op.bulk_insert(marks, [{"name": name, "last_id": 0} for name in ("ledger", "refund", "rating")])
    with op.batch_alter_table("card") as batch_op:
        batch_op.add_column(sa.Column("visits", sa.Integer(), nullable=False, server_default="0"))
    op.create_index("ix_card_merchant_joined", "card", ["merchant_id", "joined_at"])
    op.create_index("ix_card_merchant_visits", "card", ["merchant_id", "visits"])
    op.create_index("ix_card_merchant_tier", "card", ["merchant_id", "tier_id"])
    op.create_index("ix_survey_rated", "survey", ["rated_at", "id"])
    op.create_index("ix_survey_merchant_reason", "survey", ["merchant_id", "reason"])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_survey_merchant_reason", table_name="survey")
    op.drop_index("ix_survey_rated", table_name="survey")
    op.drop_index("ix_card_merchant_tier", table_name="card")
    op.drop_index("ix_card_merchant_visits", table_name="card")
    op.drop_index("ix_card_merchant_joined", table_name="card")
    with op.batch_alter_table("card") as batch_op:
        batch_op.drop_column("visits")
    op.drop_table("tally_mark")
    op.drop_table("daily_tally")
