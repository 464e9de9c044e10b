"""the pulse key is kept in log space from 1970: existing keys are rebuilt

The stored `customers.pulse_key` was S = Σ w·e^(λ(t − 2020-01-01)); it is now the key of
S = Σ w·e^(λ(t − 1970-01-01)) in log space (see analytics/pulse.py). The half-life λ is in
hxpulse.toml, which a migration cannot read, so a database with customers is marked for a
rebuild (`meta.pulse_rebuild`): `hxpulse migrate`, `serve` and every command rebuild the pulse
with the configured settings before anything reads it, then record them (`meta.pulse_law`).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REASON = "the stored pulse key changed in this version of HX Pulse"


def upgrade() -> None:
    op.execute(sa.text("DELETE FROM meta WHERE key IN ('pulse_law', 'pulse_rebuild')"))
    op.execute(
        sa.text(
            "INSERT INTO meta (key, value) SELECT 'pulse_rebuild', :reason"
            " WHERE EXISTS (SELECT 1 FROM customers)"
        ).bindparams(reason=REASON)
    )


def downgrade() -> None:
    # the older key cannot be computed without the half-life either: the older version's
    # `hxpulse pulse --rebuild` writes it; until then its pulses read as zero
    op.execute(sa.text("DELETE FROM meta WHERE key IN ('pulse_law', 'pulse_rebuild')"))
    op.execute(sa.text("UPDATE customers SET pulse_key = 0"))
