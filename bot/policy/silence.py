"""Who may silence an alert: the place for that rule, once alerts exist.

Alerts are not built yet. When they are, the rule goes here, answering a ``Refusal`` (or None) as
``bot.policy.paging.may_page`` does, and ``bot.slack.refusals`` words it; nothing else decides it.
"""

from __future__ import annotations
