"""Enrichment runs become supervised runs like scans: the same error column name, an attempt
counter (re-queued once after a machine restart) and a cancel flag.
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'


def upgrade() -> None:
    with op.batch_alter_table('enrichment_runs', schema=None) as batch_op:
        batch_op.alter_column('error', new_column_name='error_message', existing_type=sa.String(length=500),
                              existing_nullable=True)
        batch_op.add_column(sa.Column('attempt', sa.Integer(), nullable=False, server_default=sa.text('1')))
        batch_op.add_column(sa.Column('cancel_requested', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('enrichment_runs', schema=None) as batch_op:
        batch_op.drop_column('cancel_requested')
        batch_op.drop_column('attempt')
        batch_op.alter_column('error_message', new_column_name='error', existing_type=sa.String(length=500),
                              existing_nullable=True)
