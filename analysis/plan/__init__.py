"""Who to contact next (issue 24): each open account's contact headroom under every active rule,
the best hour and channel to reach it, and the plan for a date ranked by expected collection."""
from __future__ import annotations

PLAN_CHANNELS = ("call", "sms", "email")
