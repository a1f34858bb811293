"""Revoked service tokens: the ``jti`` of each HS256 token ``openshield token revoke`` refused.
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'


def upgrade() -> None:
    op.create_table(
        'revoked_tokens',
        sa.Column('jti', sa.String(length=256), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('subject', sa.String(length=256), nullable=True),
        sa.Column('reason', sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint('jti', name=op.f('pk_revoked_tokens')),
    )


def downgrade() -> None:
    op.drop_table('revoked_tokens')
