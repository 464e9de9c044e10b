"""surveys, invitations, responses, score counts and themes

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import hxpulse.db.base

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "theme_models",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("fitted_at", hxpulse.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answers", sa.Integer(), nullable=False),
        sa.Column(
            "model", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_theme_models")),
    )
    op.create_table(
        "surveys",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column(
            "followups", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("department", sa.String(length=100), nullable=True),
        sa.Column("touchpoint", sa.String(length=100), nullable=True),
        sa.Column("trigger_event", sa.String(length=200), nullable=True),
        sa.Column(
            "segment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("every_days", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), server_default="1", nullable=False),
        sa.Column(
            "trigger_cursor",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            server_default="0",
            nullable=False,
        ),
        sa.Column("created_at", hxpulse.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hxpulse.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["segment_id"], ["segments.id"], name=op.f("fk_surveys_segment_id_segments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surveys")),
        sa.UniqueConstraint("name", name=op.f("uq_surveys_name")),
    )
    op.create_table(
        "themes",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("model_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "words", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column(
            "merged_into_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("created_at", hxpulse.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["merged_into_id"], ["themes.id"], name=op.f("fk_themes_merged_into_id_themes")
        ),
        sa.ForeignKeyConstraint(
            ["model_id"], ["theme_models.id"], name=op.f("fk_themes_model_id_theme_models")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_themes")),
    )
    op.create_table(
        "survey_invitations",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "survey_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("via", sa.String(length=10), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("sent_at", hxpulse.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", hxpulse.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("opened_at", hxpulse.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("answered_at", hxpulse.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_survey_invitations_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["survey_id"], ["surveys.id"], name=op.f("fk_survey_invitations_survey_id_surveys")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_invitations")),
    )
    with op.batch_alter_table("survey_invitations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_survey_invitations_customer_sent", ["customer_id", "sent_at"], unique=False
        )
        batch_op.create_index(
            "ix_survey_invitations_survey_sent", ["survey_id", "sent_at"], unique=False
        )

    op.create_table(
        "survey_score_counts",
        sa.Column(
            "survey_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("department", sa.String(length=100), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("touchpoint", sa.String(length=100), nullable=False),
        sa.Column("c0", sa.Integer(), server_default="0", nullable=False),
        sa.Column("c1", sa.Integer(), server_default="0", nullable=False),
        sa.Column("c2", sa.Integer(), server_default="0", nullable=False),
        sa.Column("c3", sa.Integer(), server_default="0", nullable=False),
        sa.Column("c4", sa.Integer(), server_default="0", nullable=False),
        sa.Column("c5", sa.Integer(), server_default="0", nullable=False),
        sa.Column("c6", sa.Integer(), server_default="0", nullable=False),
        sa.Column("c7", sa.Integer(), server_default="0", nullable=False),
        sa.Column("c8", sa.Integer(), server_default="0", nullable=False),
        sa.Column("c9", sa.Integer(), server_default="0", nullable=False),
        sa.Column("c10", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["survey_id"], ["surveys.id"], name=op.f("fk_survey_score_counts_survey_id_surveys")
        ),
        sa.PrimaryKeyConstraint(
            "survey_id",
            "day",
            "department",
            "channel",
            "touchpoint",
            name=op.f("pk_survey_score_counts"),
        ),
    )
    op.create_table(
        "survey_responses",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "survey_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "invitation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("band", sa.String(length=20), nullable=False),
        sa.Column("why", sa.Text(), nullable=True),
        sa.Column("sentiment", sa.Float(), nullable=True),
        sa.Column("flagged", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("answered_at", hxpulse.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("department", sa.String(length=100), nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=True),
        sa.Column("touchpoint", sa.String(length=100), nullable=True),
        sa.Column("themed", sa.Boolean(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_survey_responses_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["invitation_id"],
            ["survey_invitations.id"],
            name=op.f("fk_survey_responses_invitation_id_survey_invitations"),
        ),
        sa.ForeignKeyConstraint(
            ["survey_id"], ["surveys.id"], name=op.f("fk_survey_responses_survey_id_surveys")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_responses")),
        sa.UniqueConstraint("message_id", name=op.f("uq_survey_responses_message_id")),
    )
    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        batch_op.create_index("ix_survey_responses_answered_at", ["answered_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_survey_responses_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(
            "ix_survey_responses_flagged",
            ["answered_at"],
            unique=False,
            postgresql_where=sa.text("flagged"),
            sqlite_where=sa.text("flagged"),
        )
        batch_op.create_index(
            "ix_survey_responses_survey_answered", ["survey_id", "answered_at"], unique=False
        )

    op.create_table(
        "response_themes",
        sa.Column(
            "response_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("theme_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["survey_responses.id"],
            name=op.f("fk_response_themes_response_id_survey_responses"),
        ),
        sa.ForeignKeyConstraint(
            ["theme_id"], ["themes.id"], name=op.f("fk_response_themes_theme_id_themes")
        ),
        sa.PrimaryKeyConstraint("response_id", "theme_id", name=op.f("pk_response_themes")),
    )
    with op.batch_alter_table("response_themes", schema=None) as batch_op:
        batch_op.create_index("ix_response_themes_theme_id", ["theme_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("response_themes", schema=None) as batch_op:
        batch_op.drop_index("ix_response_themes_theme_id")

    op.drop_table("response_themes")
    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        batch_op.drop_index("ix_survey_responses_survey_answered")
        batch_op.drop_index(
            "ix_survey_responses_flagged",
            postgresql_where=sa.text("flagged"),
            sqlite_where=sa.text("flagged"),
        )
        batch_op.drop_index(batch_op.f("ix_survey_responses_customer_id"))
        batch_op.drop_index("ix_survey_responses_answered_at")

    op.drop_table("survey_responses")
    op.drop_table("survey_score_counts")
    with op.batch_alter_table("survey_invitations", schema=None) as batch_op:
        batch_op.drop_index("ix_survey_invitations_survey_sent")
        batch_op.drop_index("ix_survey_invitations_customer_sent")

    op.drop_table("survey_invitations")
    op.drop_table("themes")
    op.drop_table("surveys")
    op.drop_table("theme_models")
