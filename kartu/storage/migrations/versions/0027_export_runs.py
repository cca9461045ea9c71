"""export_run: an owner's /export asked, running (one per shop at a time), done; its link used;
the index /feedback reads its latest comments by

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 20:30:00
"""

from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

import kartu.storage.types

# revision identifiers, used by Alembic.
revision: str = "0027"
down_revision: Union[str, Sequence[str], None] = "0026"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    when = kartu.storage.types.UTCDateTime(timezone=True)
    op.create_table(
        "export_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("period", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
        sa.Column("since", when, nullable=True),
        sa.Column("last_entry_id", sa.BigInteger(), nullable=True),
        sa.Column("asked_at", when, nullable=False),
        sa.Column("touched_at", when, nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("files", sa.Integer(), nullable=False),
        sa.Column("link_used_at", when, nullable=True),
        sa.ForeignKeyConstraint(["merchant_id"], ["merchant.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token"),
    )
    op.create_index(op.f("ix_export_run_merchant_id"), "export_run", ["merchant_id"], unique=False)
    op.create_index(op.f("ix_export_run_person_id"), "export_run", ["person_id"], unique=False)
    op.create_index(
        "ux_export_running",
        "export_run",
        ["merchant_id"],
        unique=True,
        sqlite_where=sa.text("status = 'running'"),
        postgresql_where=sa.text("status = 'running'"),
    )
    op.create_index("ix_survey_merchant_commented", "survey", ["merchant_id", "commented_at"])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_survey_merchant_commented", table_name="survey")
    op.drop_index("ux_export_running", table_name="export_run")
    op.drop_index(op.f("ix_export_run_person_id"), table_name="export_run")
    op.drop_index(op.f("ix_export_run_merchant_id"), table_name="export_run")
    op.drop_table("export_run")
