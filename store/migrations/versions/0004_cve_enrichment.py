"""CVE enrichment: CVE fields on findings, the enrichment error on scans, re-enrichment runs
and the shared NVD cache.
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'

_ACTIVE = sa.text("status IN ('pending', 'running')")


def upgrade() -> None:
    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cve_references', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('cvss_score', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('exploit_available', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('scans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cve_enrichment_error', sa.String(length=500), nullable=True))

    op.create_table('enrichment_runs',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('scan_id', sa.String(length=36), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=True),
    sa.Column('launched_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('pid', sa.Integer(), nullable=True),
    sa.Column('process_create_time', sa.Float(), nullable=True),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.Column('exit_code', sa.Integer(), nullable=True),
    sa.Column('findings_enriched', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['scan_id'], ['scans.scan_id'], name=op.f('fk_enrichment_runs_scan_id_scans'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enrichment_runs'))
    )
    with op.batch_alter_table('enrichment_runs', schema=None) as batch_op:
        batch_op.create_index('ix_enrichment_runs_scan_id', ['scan_id'], unique=False)
        batch_op.create_index('uq_enrichment_runs_active_scan', ['scan_id'], unique=True,
                              sqlite_where=_ACTIVE, postgresql_where=_ACTIVE)

    op.create_table('nvd_cache',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('query', sa.Text(), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('fetched_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_nvd_cache'))
    )


def downgrade() -> None:
    op.drop_table('nvd_cache')
    with op.batch_alter_table('enrichment_runs', schema=None) as batch_op:
        batch_op.drop_index('uq_enrichment_runs_active_scan', sqlite_where=_ACTIVE, postgresql_where=_ACTIVE)
        batch_op.drop_index('ix_enrichment_runs_scan_id')
    op.drop_table('enrichment_runs')
    with op.batch_alter_table('scans', schema=None) as batch_op:
        batch_op.drop_column('cve_enrichment_error')
    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.drop_column('exploit_available')
        batch_op.drop_column('cvss_score')
        batch_op.drop_column('cve_references')
