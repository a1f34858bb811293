"""Initial schema: scans, findings, per-rule outcomes."""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None


def upgrade() -> None:

    op.create_table('scans',
    sa.Column('scan_id', sa.String(length=36), nullable=False),
    sa.Column('subscription_id', sa.String(length=36), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('phase', sa.String(length=16), nullable=False),
    sa.Column('error_message', sa.String(length=500), nullable=True),
    sa.Column('rules_completed', sa.Integer(), nullable=False),
    sa.Column('total_rules', sa.Integer(), nullable=False),
    sa.Column('progress', sa.Integer(), nullable=False),
    sa.Column('resources_collected', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('duration_seconds', sa.Float(), nullable=True),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('pid', sa.Integer(), nullable=True),
    sa.Column('host', sa.String(length=255), nullable=True),
    sa.Column('process_create_time', sa.Float(), nullable=True),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('cancel_requested', sa.Boolean(), nullable=False),
    sa.Column('exit_code', sa.Integer(), nullable=True),
    sa.Column('total_findings', sa.Integer(), nullable=False),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('cve_enrichment_status', sa.String(length=16), nullable=False),
    sa.Column('trigger', sa.String(length=8), nullable=False),
    sa.Column('rules', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('scan_id', name=op.f('pk_scans'))
    )
    with op.batch_alter_table('scans', schema=None) as batch_op:
        batch_op.create_index('ix_scans_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_scans_status', ['status'], unique=False)
        batch_op.create_index('uq_scans_active_subscription', ['subscription_id'], unique=True, sqlite_where=sa.text("status IN ('pending', 'running')"), postgresql_where=sa.text("status IN ('pending', 'running')"))

    op.create_table('findings',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('scan_id', sa.String(length=36), nullable=False),
    sa.Column('subscription_id', sa.String(length=36), nullable=False),
    sa.Column('rule_id', sa.String(length=32), nullable=False),
    sa.Column('rule_name', sa.String(length=255), nullable=False),
    sa.Column('severity', sa.String(length=16), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('resource_id', sa.Text(), nullable=False),
    sa.Column('resource_name', sa.String(length=512), nullable=False),
    sa.Column('resource_type', sa.String(length=255), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('remediation', sa.Text(), nullable=False),
    sa.Column('frameworks', sa.JSON(), nullable=False),
    sa.Column('metadata', sa.JSON(), nullable=False),
    sa.Column('detected_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['scan_id'], ['scans.scan_id'], name=op.f('fk_findings_scan_id_scans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_findings'))
    )
    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.create_index('ix_findings_rule_id', ['rule_id'], unique=False)
        batch_op.create_index('ix_findings_scan_id', ['scan_id'], unique=False)
        batch_op.create_index('ix_findings_severity', ['severity'], unique=False)

    op.create_table('scan_rule_outcomes',
    sa.Column('scan_id', sa.String(length=36), nullable=False),
    sa.Column('rule_id', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('evaluated_count', sa.Integer(), nullable=False),
    sa.Column('failed_count', sa.Integer(), nullable=False),
    sa.Column('not_evaluated_count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['scan_id'], ['scans.scan_id'], name=op.f('fk_scan_rule_outcomes_scan_id_scans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('scan_id', 'rule_id', name=op.f('pk_scan_rule_outcomes'))
    )



def downgrade() -> None:

    op.drop_table('scan_rule_outcomes')
    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.drop_index('ix_findings_severity')
        batch_op.drop_index('ix_findings_scan_id')
        batch_op.drop_index('ix_findings_rule_id')

    op.drop_table('findings')
    with op.batch_alter_table('scans', schema=None) as batch_op:
        batch_op.drop_index('uq_scans_active_subscription', sqlite_where=sa.text("status IN ('pending', 'running')"), postgresql_where=sa.text("status IN ('pending', 'running')"))
        batch_op.drop_index('ix_scans_status')
        batch_op.drop_index('ix_scans_created_at')

    op.drop_table('scans')

