"""Index for "latest completed scan per subscription"."""
from __future__ import annotations

from alembic import op

revision = '0003'
down_revision = '0002'


def upgrade() -> None:
    with op.batch_alter_table('scans', schema=None) as batch_op:
        batch_op.create_index('ix_scans_status_subscription_completed', ['status', 'subscription_id', 'completed_at'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('scans', schema=None) as batch_op:
        batch_op.drop_index('ix_scans_status_subscription_completed')
