"""WhatsApp for customers: a person may have no Telegram id (they came by WhatsApp); their identity
there is a contact (channel, address, phone, consent, last message); an outbox message names its
channel; WhatsApp's webhook events are journaled like Telegram's updates; the messages sent on
WhatsApp are kept with what Meta bills them as

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07 23:20:00
"""

from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

import kartu.storage.types

# revision identifiers, used by Alembic.
revision: str = "0028"
down_revision: Union[str, Sequence[str], None] = "0027"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema. (On SQLite the person and outbox tables are rebuilt: kartu.storage.migrate
    runs migrations with foreign keys checked at the end, not on the way.)"""
    when = kartu.storage.types.UTCDateTime(timezone=True)
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.alter_column("telegram_id", existing_type=sa.BigInteger(), nullable=True)
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.alter_column("chat_id", existing_type=sa.BigInteger(), nullable=True)
        batch_op.add_column(
            sa.Column("channel", sa.String(length=16), server_default="telegram", nullable=False)
        )
    op.create_table(
        "contact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("consent_at", when, nullable=True),
        sa.Column("last_inbound_at", when, nullable=True),
        sa.Column("created_at", when, nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel", "address"),
        sa.UniqueConstraint("person_id", "channel"),
    )
    op.create_table(
        "whatsapp_event",
        sa.Column("event_id", sa.String(length=160), nullable=False),
        sa.Column("received_at", when, nullable=False),
        sa.Column("payload", sa.Text(), nullable=True),
        sa.Column("sender", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("started_at", when, nullable=True),
        sa.Column("done_at", when, nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.create_index(op.f("ix_whatsapp_event_received_at"), "whatsapp_event", ["received_at"], unique=False)
    op.create_table(
        "whatsapp_message",
        sa.Column("id", sa.String(length=160), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("billable", sa.Boolean(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("sent_at", when, nullable=False),
        sa.ForeignKeyConstraint(["merchant_id"], ["merchant.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_whatsapp_message_shop_sent", "whatsapp_message", ["merchant_id", "sent_at"], unique=False
    )
    op.create_index(op.f("ix_whatsapp_message_person_id"), "whatsapp_message", ["person_id"], unique=False)


def downgrade() -> None:
    """Downgrade schema (people with no Telegram id must be gone first)."""
    op.drop_index(op.f("ix_whatsapp_message_person_id"), table_name="whatsapp_message")
    op.drop_index("ix_whatsapp_message_shop_sent", table_name="whatsapp_message")
    op.drop_table("whatsapp_message")
    op.drop_index(op.f("ix_whatsapp_event_received_at"), table_name="whatsapp_event")
    op.drop_table("whatsapp_event")
    op.drop_table("contact")
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_column("channel")
        batch_op.alter_column("chat_id", existing_type=sa.BigInteger(), nullable=False)
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.alter_column("telegram_id", existing_type=sa.BigInteger(), nullable=False)
