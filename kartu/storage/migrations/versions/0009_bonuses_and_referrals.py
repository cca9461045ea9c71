"""bonuses and referrals: welcome, birthday and referral bonuses on the program, customers'
birthdays, a card's invite link, referrals

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 11:47:04.225733

"""

from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate writes sqlmodel types)
from alembic import op

import kartu.storage.types  # noqa: F401

# revision identifiers, used by Alembic.
revision: str = "0009"
down_revision: Union[str, Sequence[str], None] = "0008"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "referral",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("referrer_person_id", sa.Integer(), nullable=False),
        sa.Column("friend_person_id", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("created_at", kartu.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("paid_at", kartu.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("referrer_paid", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["friend_person_id"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchant.id"],
        ),
        sa.ForeignKeyConstraint(
            ["referrer_person_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("merchant_id", "friend_person_id"),
    )
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.create_index("ix_referral_pending", ["merchant_id", "status"], unique=False)
        batch_op.create_index(
            "ix_referral_referrer", ["merchant_id", "referrer_person_id", "paid_at"], unique=False
        )

    with op.batch_alter_table("card", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("invite_token", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=True)
        )
        batch_op.create_unique_constraint("uq_card_invite_token", ["invite_token"])

    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(sa.Column("birthday_day", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("birthday_month", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("birthday_set_at", kartu.storage.types.UTCDateTime(timezone=True), nullable=True)
        )

    with op.batch_alter_table("program", schema=None) as batch_op:
        batch_op.add_column(sa.Column("welcome_bonus", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("birthday_bonus", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("referral_bonus", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(
            sa.Column("referral_monthly_cap", sa.Integer(), nullable=False, server_default="5")
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("program", schema=None) as batch_op:
        batch_op.drop_column("referral_monthly_cap")
        batch_op.drop_column("referral_bonus")
        batch_op.drop_column("birthday_bonus")
        batch_op.drop_column("welcome_bonus")

    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_column("birthday_set_at")
        batch_op.drop_column("birthday_month")
        batch_op.drop_column("birthday_day")

    with op.batch_alter_table("card", schema=None) as batch_op:
        batch_op.drop_constraint("uq_card_invite_token", type_="unique")
        batch_op.drop_column("invite_token")

    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.drop_index("ix_referral_referrer")
        batch_op.drop_index("ix_referral_pending")

    op.drop_table("referral")
