"""receipt codes: a sale rung up for a customer not at the till, credited to the first person who
opens its link; and the links that credited nothing, to throttle guessing

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 15:40:00

"""

from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

import kartu.storage.types

# revision identifiers, used by Alembic.
revision: str = "0022"
down_revision: Union[str, Sequence[str], None] = "0021"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

When = kartu.storage.types.UTCDateTime


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "receipt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("external_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("stamps", sa.Integer(), nullable=True),
        sa.Column("occurred_at", When(timezone=True), nullable=True),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_by_key_id", sa.Integer(), nullable=True),
        sa.Column("created_at", When(timezone=True), nullable=False),
        sa.Column("expires_at", When(timezone=True), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("claimed_at", When(timezone=True), nullable=True),
        sa.Column("voided_at", When(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["created_by_key_id"], ["api_key.id"]),
        sa.ForeignKeyConstraint(["merchant_id"], ["merchant.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index(op.f("ix_receipt_merchant_id"), "receipt", ["merchant_id"], unique=False)
    op.create_index(op.f("ix_receipt_person_id"), "receipt", ["person_id"], unique=False)
    op.create_table(
        "receipt_miss",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("at", When(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_receipt_miss_person_id"), "receipt_miss", ["person_id"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f("ix_receipt_miss_person_id"), table_name="receipt_miss")
    op.drop_table("receipt_miss")
    op.drop_index(op.f("ix_receipt_person_id"), table_name="receipt")
    op.drop_index(op.f("ix_receipt_merchant_id"), table_name="receipt")
    op.drop_table("receipt")
