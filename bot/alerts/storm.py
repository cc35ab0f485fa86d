"""An alert storm's page: its words to people (one message, how many), and the list in Slack.

Why one page: past ``storm.max_pages`` new groups within ``storm.per``, paging per group wakes
the same person dozens of times for one outage. Further groups join one "alert storm" page
that pages once through the first such group's escalation; its root message lists them. It
ends when every group in it has resolved at the source, or like any page when acknowledged.
"""

from __future__ import annotations

from bot.slack.mrkdwn import Block, Limit, Mrkdwn, context, fit, md, section
from bot.store.alerts_base import PageGroups
from config.durations import format_duration
from config.settings import Integration

SHOWN = 30  # groups listed in the root message: the rest are counted


def storm_text(integration: Integration) -> str:
    storm = integration.storm
    assert storm is not None
    return (
        f"[alert storm] {integration.name}: over {storm.max_pages} new alert groups within "
        f"{format_duration(storm.per)}; further groups join this page, the list is in Slack"
    )


def storm_blocks(found: PageGroups) -> list[Block]:
    head = md(
        ":thunder_cloud_and_rain: *Alert storm*: {} group(s) joined this page, {} still firing",
        found.total,
        found.firing,
    )
    lines = [
        md(
            "• {} `{}` {} · {}×",
            ":red_circle:" if g.state == "firing" else ":large_green_circle:",
            g.group_id,
            fit(g.title, 150),
            g.count,
        )
        for g in found.groups
    ]
    more = md("\n…and {} more", found.total - len(found.groups)) if found.total > SHOWN else ""
    listed = fit(Mrkdwn("\n".join(lines) + more), Limit.TEXT)
    return [context(head), section(listed)] if lines else [context(head)]
