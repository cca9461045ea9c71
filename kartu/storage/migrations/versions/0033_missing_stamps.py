"""Missing a stamp? A claim for a past visit: its day, the receipt's photo, the reason of a refusal

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-08 03:25:00
"""

from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0033"
down_revision: Union[str, Sequence[str], None] = "0032"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema (nullable columns: no table is rebuilt)."""
    op.add_column("purchase_claim", sa.Column("visit_day", sa.Date(), nullable=True))
    op.add_column(
        "purchase_claim",
        sa.Column("photo_file_id", sqlmodel.sql.sqltypes.AutoString(length=256), nullable=True),
    )
    op.add_column(
        "purchase_claim", sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True)
    )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("purchase_claim", schema=None) as batch_op:
        batch_op.drop_column("note")
        batch_op.drop_column("photo_file_id")
        batch_op.drop_column("visit_day")
