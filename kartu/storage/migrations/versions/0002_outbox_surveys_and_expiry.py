"""outbox, surveys and expiry

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

"""

from collections.abc import Sequence
from typing import Union

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate writes sqlmodel types)
from alembic import op

import kartu.storage.types  # noqa: F401

# revision identifiers, used by Alembic.
revision: str = "0002"
down_revision: Union[str, Sequence[str], None] = "0001"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "outbox_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("merchant_id", sa.Integer(), nullable=True),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("not_before", kartu.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("claimed_at", kartu.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sent_at", kartu.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("created_at", kartu.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchant.id"],
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
    )
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_due", ["status", "not_before"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_message_person_id"), ["person_id"], unique=False)

    op.create_table(
        "survey",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("prompt_id", sa.Integer(), nullable=True),
        sa.Column("created_at", kartu.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("rated_at", kartu.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("commented_at", kartu.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchant.id"],
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["prompt_id"],
            ["purchase_prompt.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("survey", schema=None) as batch_op:
        batch_op.create_index("ix_survey_card_time", ["merchant_id", "person_id", "created_at"], unique=False)

    with op.batch_alter_table("card", schema=None) as batch_op:
        batch_op.create_index(
            "ix_card_merchant_last_purchase", ["merchant_id", "last_purchase_at"], unique=False
        )

    with op.batch_alter_table("merchant", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "quiet_hours",
                sqlmodel.sql.sqltypes.AutoString(length=16),
                nullable=False,
                server_default="21:00-08:00",
            )
        )

    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("promotions_opt_out", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("unreachable_at", kartu.storage.types.UTCDateTime(timezone=True), nullable=True)
        )

    with op.batch_alter_table("program", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "reminder_days",
                sqlmodel.sql.sqltypes.AutoString(length=16),
                nullable=False,
                server_default="7,1",
            )
        )
        batch_op.add_column(
            sa.Column("survey_delay_minutes", sa.Integer(), nullable=False, server_default="120")
        )
        batch_op.add_column(sa.Column("survey_every_days", sa.Integer(), nullable=False, server_default="14"))

    with op.batch_alter_table("reward", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("expired_at", kartu.storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index("ix_reward_merchant_expires", ["merchant_id", "expires_at"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("reward", schema=None) as batch_op:
        batch_op.drop_index("ix_reward_merchant_expires")
        batch_op.drop_column("expired_at")

    with op.batch_alter_table("program", schema=None) as batch_op:
        batch_op.drop_column("survey_every_days")
        batch_op.drop_column("survey_delay_minutes")
        batch_op.drop_column("reminder_days")

    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_column("unreachable_at")
        batch_op.drop_column("promotions_opt_out")

    with op.batch_alter_table("merchant", schema=None) as batch_op:
        batch_op.drop_column("quiet_hours")

    with op.batch_alter_table("card", schema=None) as batch_op:
        batch_op.drop_index("ix_card_merchant_last_purchase")

    with op.batch_alter_table("survey", schema=None) as batch_op:
        batch_op.drop_index("ix_survey_card_time")

    op.drop_table("survey")
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_message_person_id"))
        batch_op.drop_index("ix_outbox_due")

    op.drop_table("outbox_message")
