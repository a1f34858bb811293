"""Results people act on: PASS / NOT_EVALUATED results, finding keys, first seen and new on
failures, mutes (accepted risks) and their history.
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'


def upgrade() -> None:
    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('finding_key', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('location', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('is_new', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('muted', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('mute_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_findings_scan_id_finding_key', ['scan_id', 'finding_key'], unique=False)
    # existing failures get their key (store.result_keys.finding_key) so diffs reach back to them
    op.execute("UPDATE findings SET finding_key = upper(rule_id) || '|' || lower(resource_id)")

    op.create_table('scan_results',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('scan_id', sa.String(length=36), nullable=False),
    sa.Column('rule_id', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('resource_id', sa.Text(), nullable=False),
    sa.Column('resource_name', sa.String(length=512), nullable=False),
    sa.Column('resource_type', sa.String(length=255), nullable=False),
    sa.Column('location', sa.String(length=64), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['scan_id'], ['scans.scan_id'], name=op.f('fk_scan_results_scan_id_scans'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scan_results'))
    )
    with op.batch_alter_table('scan_results', schema=None) as batch_op:
        batch_op.create_index('ix_scan_results_scan_id_status', ['scan_id', 'status'], unique=False)

    op.create_table('mutes',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('rule_id', sa.String(length=32), nullable=False),
    sa.Column('resource_pattern', sa.Text(), nullable=False),
    sa.Column('subscription_id', sa.String(length=36), nullable=True),
    sa.Column('tags', sa.JSON(), nullable=True),
    sa.Column('justification', sa.Text(), nullable=False),
    sa.Column('author', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mutes'))
    )
    op.create_table('mute_events',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('mute_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('actor', sa.String(length=255), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('mute', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mute_events'))
    )
    with op.batch_alter_table('mute_events', schema=None) as batch_op:
        batch_op.create_index('ix_mute_events_mute_id', ['mute_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('mute_events', schema=None) as batch_op:
        batch_op.drop_index('ix_mute_events_mute_id')
    op.drop_table('mute_events')
    op.drop_table('mutes')
    with op.batch_alter_table('scan_results', schema=None) as batch_op:
        batch_op.drop_index('ix_scan_results_scan_id_status')
    op.drop_table('scan_results')
    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.drop_index('ix_findings_scan_id_finding_key')
        batch_op.drop_column('mute_id')
        batch_op.drop_column('muted')
        batch_op.drop_column('is_new')
        batch_op.drop_column('first_seen_at')
        batch_op.drop_column('location')
        batch_op.drop_column('finding_key')
