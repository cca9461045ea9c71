"""security: handled update ids, redemption prompts, code-guess throttles, acting shop, per-shop opt-out, erasure

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23

"""

from collections.abc import Sequence
from typing import Union

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate writes sqlmodel types)
from alembic import op

import kartu.storage.types  # noqa: F401

# revision identifiers, used by Alembic.
revision: str = "0006"
down_revision: Union[str, Sequence[str], None] = "0005"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "processed_update",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("received_at", kartu.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("update_id"),
    )
    with op.batch_alter_table("processed_update", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_processed_update_received_at"), ["received_at"], unique=False)

    # Opt-out moves from the person to each card: /stop at one shop is not /stop everywhere.
    with op.batch_alter_table("card", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("promotions_opt_out", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.execute(
        "UPDATE card SET promotions_opt_out = TRUE "
        "WHERE person_id IN (SELECT id FROM person WHERE promotions_opt_out = TRUE)"
    )

    with op.batch_alter_table("conversation_state", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("updated_at", kartu.storage.types.UTCDateTime(timezone=True), nullable=True)
        )

    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(sa.Column("acting_merchant_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("forgotten_at", kartu.storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_foreign_key(
            "fk_person_acting_merchant_id_merchant", "merchant", ["acting_merchant_id"], ["id"]
        )
        batch_op.drop_column("promotions_opt_out")

    # Prompts open before the upgrade carried their sequential id; they stop working (they live 10 minutes).
    op.execute("UPDATE purchase_prompt SET status = 'expired' WHERE status = 'pending'")
    with op.batch_alter_table("purchase_prompt", schema=None) as batch_op:
        batch_op.add_column(sa.Column("token", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.add_column(
            sa.Column(
                "kind", sqlmodel.sql.sqltypes.AutoString(length=16), server_default="purchase", nullable=False
            )
        )
        batch_op.add_column(sa.Column("reward_id", sa.Integer(), nullable=True))
        batch_op.create_unique_constraint("uq_purchase_prompt_token", ["token"])
        batch_op.create_foreign_key("fk_purchase_prompt_reward_id_reward", "reward", ["reward_id"], ["id"])

    with op.batch_alter_table("staff_member", schema=None) as batch_op:
        batch_op.add_column(sa.Column("code_misses", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(
            sa.Column("miss_window_start", kartu.storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("misses_in_window", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(
            sa.Column("locked_at", kartu.storage.types.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("staff_member", schema=None) as batch_op:
        batch_op.drop_column("locked_at")
        batch_op.drop_column("misses_in_window")
        batch_op.drop_column("miss_window_start")
        batch_op.drop_column("code_misses")

    with op.batch_alter_table("purchase_prompt", schema=None) as batch_op:
        batch_op.drop_constraint("fk_purchase_prompt_reward_id_reward", type_="foreignkey")
        batch_op.drop_constraint("uq_purchase_prompt_token", type_="unique")
        batch_op.drop_column("reward_id")
        batch_op.drop_column("kind")
        batch_op.drop_column("token")

    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("promotions_opt_out", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.drop_constraint("fk_person_acting_merchant_id_merchant", type_="foreignkey")
        batch_op.drop_column("forgotten_at")
        batch_op.drop_column("acting_merchant_id")
    op.execute(
        "UPDATE person SET promotions_opt_out = TRUE "
        "WHERE id IN (SELECT person_id FROM card WHERE promotions_opt_out = TRUE)"
    )

    with op.batch_alter_table("conversation_state", schema=None) as batch_op:
        batch_op.drop_column("updated_at")

    with op.batch_alter_table("card", schema=None) as batch_op:
        batch_op.drop_column("promotions_opt_out")

    with op.batch_alter_table("processed_update", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_processed_update_received_at"))
    op.drop_table("processed_update")
