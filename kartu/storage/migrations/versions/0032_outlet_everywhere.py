"""Where things happened: the outlet on staff, invites, prompts, claims, surveys, ledger rows, cards
(last visit) and API keys; the outlets' days (outlet_tally) and each customer's visits per outlet
(outlet_visit), counted by the tally

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-08 02:40:00
"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0032"
down_revision: Union[str, Sequence[str], None] = "0031"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# Plain nullable ids (an outlet's), without foreign keys: adding them rebuilds no table, the ledger's
# and the cards' millions of rows among them. NULL means "before outlets" or "the whole business".
COLUMNS = (
    ("staff_member", "outlet_id"),  # the outlet a member belongs to (NULL: every outlet, as owners)
    ("staff_member", "at_outlet_id"),  # where a member of every outlet works now (/shop)
    ("staff_invite", "outlet_id"),
    ("purchase_prompt", "outlet_id"),
    ("purchase_claim", "outlet_id"),
    ("survey", "outlet_id"),
    ("ledger_entry", "outlet_id"),
    ("card", "last_outlet_id"),  # the outlet of the card's last purchase (broadcasts per outlet)
    ("api_key", "outlet_id"),  # a till's key for one outlet (NULL: the business's)
    ("broadcast", "outlet_id"),  # to the customers whose last visit was at this outlet (NULL: all)
    ("receipt", "outlet_id"),
    ("merchant", "merged_into_id"),  # merged into another business: its links lead there
    ("partnership", "from_outlet_id"),  # one outlet's partnership: its purchases earn the voucher
    ("partnership", "to_outlet_id"),  # the partner's outlet where the voucher is used
)


COUNTS = (
    "visits", "first_visits", "stamps_earned", "stamps_spent", "stamps_expired", "points_earned",
    "points_spent", "points_expired", "rewards_issued", "rewards_redeemed", "ratings", "rating_sum",
)  # fmt: skip
BIG = ("points_earned", "points_spent", "points_expired")


def upgrade() -> None:
    """Upgrade schema (nullable columns: no table is rebuilt)."""
    for table, column in COLUMNS:
        op.add_column(table, sa.Column(column, sa.Integer(), nullable=True))
    op.create_index("ix_card_merchant_last_outlet", "card", ["merchant_id", "last_outlet_id"])
    op.create_table(
        "outlet_tally",
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("outlet_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        *(
            sa.Column(
                name, sa.BigInteger() if name in BIG else sa.Integer(), nullable=False, server_default="0"
            )
            for name in COUNTS
        ),
        sa.ForeignKeyConstraint(["merchant_id"], ["merchant.id"]),
        sa.ForeignKeyConstraint(["outlet_id"], ["outlet.id"]),
        sa.PrimaryKeyConstraint("merchant_id", "outlet_id", "day"),
    )
    op.create_table(
        "outlet_visit",
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("outlet_id", sa.Integer(), nullable=False),
        sa.Column("visits", sa.Integer(), nullable=False, server_default="0"),
        sa.ForeignKeyConstraint(["merchant_id"], ["merchant.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["outlet_id"], ["outlet.id"]),
        sa.PrimaryKeyConstraint("merchant_id", "person_id", "outlet_id"),
    )
    op.create_index("ix_outlet_visit_outlet", "outlet_visit", ["merchant_id", "outlet_id"])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_outlet_visit_outlet", table_name="outlet_visit")
    op.drop_table("outlet_visit")
    op.drop_table("outlet_tally")
    op.drop_index("ix_card_merchant_last_outlet", table_name="card")
    for table, column in reversed(COLUMNS):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column(column)
