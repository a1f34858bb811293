"""Schedules (recurring scans of one subscription or of the whole estate) and the schedule
that started a scan.
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'


def upgrade() -> None:
    op.create_table(
        'schedules',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('subscription_id', sa.String(length=36), nullable=True),
        sa.Column('interval_seconds', sa.Integer(), nullable=True),
        sa.Column('cron', sa.String(length=200), nullable=True),
        sa.Column('timezone', sa.String(length=64), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('rules', sa.JSON(), nullable=True),
        sa.Column('next_run_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_fired_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_fired_by', sa.String(length=255), nullable=True),
        sa.Column('last_scan_ids', sa.JSON(), nullable=True),
        sa.Column('last_skipped', sa.JSON(), nullable=True),
        sa.Column('last_error', sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_schedules')),
    )
    op.create_index('ix_schedules_due', 'schedules', ['enabled', 'next_run_at'], unique=False)
    with op.batch_alter_table('scans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('schedule_id', sa.String(length=36), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('scans', schema=None) as batch_op:
        batch_op.drop_column('schedule_id')
    op.drop_index('ix_schedules_due', table_name='schedules')
    op.drop_table('schedules')
