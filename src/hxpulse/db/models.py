"""Import every domain's tables so that `Base.metadata` knows them all (for Alembic)."""

from hxpulse.advocacy import models as advocacy_models
from hxpulse.audit import models as audit_models
from hxpulse.auth import models as auth_models
from hxpulse.cases import models as case_models
from hxpulse.clv import models as clv_models
from hxpulse.customers import models as customer_models
from hxpulse.db.base import Base
from hxpulse.events import models as event_models
from hxpulse.feeds import models as feed_models
from hxpulse.journey import models as journey_models
from hxpulse.learn import models as learn_models
from hxpulse.offers import models as offer_models
from hxpulse.outbox import models as outbox_models
from hxpulse.privacy import models as privacy_models
from hxpulse.pulse import models as pulse_models
from hxpulse.rules import models as rule_models
from hxpulse.segments import models as segment_models
from hxpulse.surveys import models as survey_models
from hxpulse.webhooks import models as webhook_models

__all__ = [
    "Base",
    "advocacy_models",
    "audit_models",
    "auth_models",
    "case_models",
    "clv_models",
    "customer_models",
    "event_models",
    "feed_models",
    "journey_models",
    "learn_models",
    "offer_models",
    "outbox_models",
    "privacy_models",
    "pulse_models",
    "rule_models",
    "segment_models",
    "survey_models",
    "webhook_models",
]
