"""daily counts: one counter row per widget and local day, for the daily cap

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 11:30:00.000000

The counter starts empty: callbacks accepted earlier on the day of the upgrade do not count
toward that one day's cap.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "widget_daily_counts",
        sa.Column("widget_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["widget_id"],
            ["widgets.id"],
            name=op.f("fk_widget_daily_counts_widget_id_widgets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("widget_id", "day", name=op.f("pk_widget_daily_counts")),
    )


def downgrade() -> None:
    op.drop_table("widget_daily_counts")
