"""Who may do what: every permission rule of the bridge, as pure functions answering plain values.

One module per concern: ``send`` (channels, messages, recipients), ``broadcast`` (presets),
``paging`` (start, acknowledge, see a page), ``page_caps`` (how many pages may run at once),
``requests`` (status, confirm, cancel, retry of a send), ``silence`` (who may silence an
integration's alerts), ``confirm`` (when a send needs a second look). A no is
a ``Refusal`` (a reason code, the plain words, the facts); Slack words it in
``bot.slack.refusals``, the terminal prints its plain words. Nothing here knows Slack.
"""

from bot.policy.broadcast import check_broadcast, may_broadcast, usable_presets
from bot.policy.confirm import audience, needs_confirmation, sms_note
from bot.policy.paging import AckRight, ack_right, link_ack_right, may_page, may_see_page
from bot.policy.phone_test import may_test, own_person, pages_person
from bot.policy.refusals import Reason, Refusal, Rejection, refuse
from bot.policy.requests import NOTHING_SENT, may_decide_held, may_see_request
from bot.policy.send import (
    authorize,
    check_message,
    check_sms_parts,
    may_send,
    plan_send,
    plan_to,
    resolve_recipients,
    usable_channels,
)
from bot.policy.senders import Sender, usergroups_that_matter
from bot.policy.silence import may_silence

__all__ = [
    "NOTHING_SENT",
    "AckRight",
    "Reason",
    "Refusal",
    "Rejection",
    "Sender",
    "ack_right",
    "audience",
    "authorize",
    "check_broadcast",
    "check_message",
    "check_sms_parts",
    "link_ack_right",
    "may_broadcast",
    "may_decide_held",
    "may_page",
    "may_see_page",
    "may_see_request",
    "may_send",
    "may_silence",
    "may_test",
    "needs_confirmation",
    "own_person",
    "pages_person",
    "plan_send",
    "plan_to",
    "refuse",
    "resolve_recipients",
    "sms_note",
    "usable_channels",
    "usable_presets",
    "usergroups_that_matter",
]
