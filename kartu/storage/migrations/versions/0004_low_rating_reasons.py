"""low rating reasons

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23

"""

from collections.abc import Sequence
from typing import Union

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate writes sqlmodel types)
from alembic import op

import kartu.storage.types  # noqa: F401

# revision identifiers, used by Alembic.
revision: str = "0004"
down_revision: Union[str, Sequence[str], None] = "0003"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("survey", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("survey", schema=None) as batch_op:
        batch_op.drop_column("reason")
