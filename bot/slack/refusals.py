"""A policy ``Refusal`` in Slack's words: its plain sentence escaped, or, where it names a Slack
channel or user, the same sentence with live mentions built from the ids policy gave.

Why here: policy answers plain values and knows nothing of mrkdwn; every Slack answer to a no
goes through ``refusal_text`` so user text in it is escaped once and only ids become mentions.
"""

from __future__ import annotations

from bot.policy import Reason, Refusal, Rejection
from bot.slack.mrkdwn import Mrkdwn, escape, md


def refusal_text(refusal: Refusal) -> Mrkdwn:
    lead = escape(refusal.preface)
    if refusal.reason is Reason.ONLY_FROM:
        where = Mrkdwn(", ".join(md("<#{}>", c) for c in refusal.slack_channels))
        said = md("`{}` can only be used from {}. Run the command there.", refusal.subject, where)
        return Mrkdwn(lead + said)
    if refusal.reason is Reason.NOT_REQUESTER:
        said = md("Only <@{}> can {} this send.", refusal.user, refusal.subject)
        return Mrkdwn(lead + said)
    return escape(refusal.plain)


def rejection_text(exc: Rejection) -> Mrkdwn:
    return refusal_text(exc.refusal)
