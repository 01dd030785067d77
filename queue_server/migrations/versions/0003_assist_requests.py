"""帮办代办 requests

Tables of queue_server.models.assist: a request for 帮办 (a helper comes to the citizen) or 代办 (staff
carry the matter through) with its contact phone kept masked, hashed and encrypted, and its steps
(filed, claimed, progress notes, released, done, cancelled), each timestamped with the staff member.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import queue_server.models.base

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('assist_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hall_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('bundle_id', sa.Integer(), nullable=True),
    sa.Column('location', sa.String(length=100), nullable=False),
    sa.Column('reason', sa.String(length=10), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('phone_masked', sa.String(length=20), nullable=True),
    sa.Column('phone_hash', sa.String(length=64), nullable=True),
    sa.Column('phone_cipher', sa.String(length=200), nullable=True),
    sa.Column('masked_name', sa.String(length=40), nullable=True),
    sa.Column('id_hash', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('follow_token', sa.String(length=32), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=True),
    sa.Column('created_at', queue_server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('claimed_at', queue_server.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('started_at', queue_server.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('done_at', queue_server.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', queue_server.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', queue_server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('help', 'proxy')", name=op.f('ck_assist_request_kind')),
    sa.CheckConstraint("status IN ('open', 'claimed', 'in_progress', 'done', 'cancelled')",
                       name=op.f('ck_assist_request_status')),
    sa.ForeignKeyConstraint(['bundle_id'], ['bundle.id'], name=op.f('fk_assist_request_bundle_id_bundle')),
    sa.ForeignKeyConstraint(['device_id'], ['device.id'], name=op.f('fk_assist_request_device_id_device')),
    sa.ForeignKeyConstraint(['hall_id'], ['hall.id'], name=op.f('fk_assist_request_hall_id_hall')),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_assist_request_staff_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assist_request')),
    sa.UniqueConstraint('follow_token', name=op.f('uq_assist_request_follow_token'))
    )
    with op.batch_alter_table('assist_request', schema=None) as batch_op:
        batch_op.create_index('ix_assist_request_hall_created_at', ['hall_id', 'created_at'], unique=False)
        batch_op.create_index('ix_assist_request_hall_status', ['hall_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_assist_request_phone_hash'), ['phone_hash'], unique=False)

    op.create_table('assist_step',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=12), nullable=False),
    sa.Column('at', queue_server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=80), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['request_id'], ['assist_request.id'],
                            name=op.f('fk_assist_step_request_id_assist_request'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_assist_step_staff_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assist_step'))
    )
    with op.batch_alter_table('assist_step', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assist_step_request_id'), ['request_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('assist_step', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assist_step_request_id'))

    op.drop_table('assist_step')
    with op.batch_alter_table('assist_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assist_request_phone_hash'))
        batch_op.drop_index('ix_assist_request_hall_status')
        batch_op.drop_index('ix_assist_request_hall_created_at')

    op.drop_table('assist_request')
