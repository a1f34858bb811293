"""A launch slot is held until the run's process has exited, not until its row turns terminal:
``slot_released_at`` on scans and enrichment runs, and a partial index over the slots still held.

Rows that are already terminal have no process left to wait for; their slots are released here.
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa

revision = '0009'
down_revision = '0008'

HELD = "host IS NOT NULL AND slot_released_at IS NULL"  # store.models.SLOT_HELD_SQL
TERMINAL = "status IN ('completed', 'failed', 'cancelled')"


def upgrade() -> None:
    for table in ('scans', 'enrichment_runs'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('slot_released_at', sa.DateTime(timezone=True), nullable=True))
        op.execute(f"UPDATE {table} SET slot_released_at = COALESCE(completed_at, created_at) WHERE {TERMINAL}")
        op.create_index(f'ix_{table}_slot_held', table, ['host'], unique=False,
                        sqlite_where=sa.text(HELD), postgresql_where=sa.text(HELD))


def downgrade() -> None:
    for table in ('enrichment_runs', 'scans'):
        op.drop_index(f'ix_{table}_slot_held', table_name=table, sqlite_where=sa.text(HELD),
                      postgresql_where=sa.text(HELD))
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('slot_released_at')
