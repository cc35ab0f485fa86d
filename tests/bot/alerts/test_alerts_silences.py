"""Silences end to end, through the real server, the Slack stand-in and the SMS emulator: who may
silence, a silenced group recorded and shown (who, until when, the reason escaped) and paging
nobody, ``/send silences`` and ``/send alerts``, a silence expiring on the test's clock (the
group still firing pages then), ``/send unsilence``, and the label matching rule."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from tests.bot.alerts.test_alerts_e2e import pages_of
from tests.bot.alerts_kit import am_group, post, start_alerting
from tests.bot.bridge_kit import BOB, CAROL, Bridge
from tests.bot.paging_kit import Clock, sms_texts
from tests.bot.slack_steps import slash
from tests.clocks import wait_until


def silenced_message(bridge: Bridge) -> str:
    return next(
        (str(m.blocks) for m in bridge.channel_messages() if "Silenced by" in str(m.blocks)), ""
    )


def silence_id(text: str) -> str:
    found = re.search(r"silence \*(S[0-9A-Z]{8})\*", text)
    assert found is not None, text
    return found.group(1)


async def test_a_silenced_group_pages_nobody_until_its_silence_expires(tmp_path: Path) -> None:
    clock = Clock()
    bridge = await start_alerting(tmp_path, clock)
    try:
        refused = await slash(bridge, "silence prod-am 1h alertname=PostgresDown", user=CAROL)
        assert "You may not silence `prod-am`" in refused.text
        assert "integrations.prod-am.allowed_senders" in refused.text
        unknown = await slash(bridge, "silence nope 1h")
        assert "There is no integration `nope`" in unknown.text
        assert "prod-am" in unknown.text

        # As Slack sends what was typed: <, > and & encoded.
        typed = "silence prod-am 1h alertname=PostgresDown swap &lt;b&gt;disk&lt;/b&gt; &amp;"
        made = await slash(bridge, typed)
        sid = silence_id(made.text)
        assert "`alertname=PostgresDown`" in made.text
        assert "2026-11-24 04:00 UTC" in made.text  # the test's clock + 1h
        told = [m.text for m in bridge.channel_messages() if sid in m.text]
        assert len(told) == 1  # said in the integration's channel too, the reason escaped
        assert "by <@U0ALICE001> — swap &lt;b&gt;disk&lt;/b&gt; &amp;" in told[0]

        assert (await post(bridge, "/alerts/prod-am", am_group())).status == 202
        group = (await bridge.runtime.store.firing_alert_groups(10))[0][0].group
        assert group.silence_id == sid  # recorded before the 202, silenced
        await wait_until(lambda: silenced_message(bridge), what="the silenced group's message")
        shown = silenced_message(bridge)
        assert "Silenced by <@U0ALICE001> until 2026-11-24 04:00 UTC" in shown
        assert "swap &lt;b&gt;disk&lt;/b&gt; &amp;" in shown  # the reason, escaped
        assert "<b>" not in shown
        await bridge.idle()
        assert sms_texts(bridge) == []
        assert pages_of(bridge) == set()

        listed = await slash(bridge, "silences", user=CAROL)  # anyone may see them
        assert sid in listed.text
        assert "by <@U0ALICE001>" in listed.text
        firing = await slash(bridge, "alerts", user=CAROL)
        assert f"silenced (`{sid}`)" in firing.text
        assert "[critical] Postgres primary is down" in firing.text

        clock.advance(timedelta(minutes=59))
        assert (await post(bridge, "/alerts/prod-am", am_group())).status == 202
        await bridge.idle()
        assert sms_texts(bridge) == []  # still silenced: a repeat pages nobody either

        clock.advance(timedelta(minutes=1))  # the silence's end: it holds no more
        assert "No silence is in force" in (await slash(bridge, "silences")).text
        assert (await post(bridge, "/alerts/prod-am", am_group())).status == 202
        await wait_until(lambda: sms_texts(bridge), what="the page once the silence expired")
        (page_id,) = pages_of(bridge)
        now = await slash(bridge, "alerts")
        assert f"page *{page_id}* active" in now.text
        assert "3×" in now.text
    finally:
        await bridge.world.close()


async def test_unsilence_and_the_matching_rule(tmp_path: Path) -> None:
    clock = Clock()
    bridge = await start_alerting(tmp_path, clock)
    try:
        # instance is not a common label: the group's one alert carries it, so it matches.
        on_db1 = silence_id(
            (await slash(bridge, "silence prod-am 2h instance=db1.example.com:9187")).text
        )
        other = silence_id((await slash(bridge, "silence prod-am 2h instance=db2", user=BOB)).text)
        assert (await post(bridge, "/alerts/prod-am", am_group(key="g1"))).status == 202
        await wait_until(lambda: silenced_message(bridge))
        assert on_db1 in silenced_message(bridge)

        both = am_group(key="g2")  # a group of db1's and db2's alerts: db2's must page
        second = dict(both["alerts"][0], labels=dict(both["alerts"][0]["labels"], instance="db3"))
        both["alerts"].append(second)
        assert (await post(bridge, "/alerts/prod-am", both)).status == 202
        await wait_until(lambda: len(sms_texts(bridge)) == 1, what="a page for db1+db3")

        assert "You may not silence" in (await slash(bridge, f"unsilence {other}", user=CAROL)).text
        ended = await slash(bridge, f"unsilence {on_db1}", user=BOB)  # in sre by usergroup
        assert f"Ended silence *{on_db1}*" in ended.text
        again = await slash(bridge, f"unsilence {on_db1}")
        assert "is in force" in again.text
        assert (await post(bridge, "/alerts/prod-am", am_group(key="g3"))).status == 202
        await wait_until(lambda: len(sms_texts(bridge)) == 2, what="a page once unsilenced")
        listed = await slash(bridge, "silences")
        assert other in listed.text
        assert on_db1 not in listed.text
    finally:
        await bridge.world.close()


async def test_send_alerts_is_escaped_and_bounded(tmp_path: Path) -> None:
    clock = Clock()
    bridge = await start_alerting(tmp_path, clock)
    try:
        for n in range(25):
            body = am_group(key=f"warn-{n}")
            body["commonLabels"]["severity"] = "warning"  # Slack only: nobody paged
            body["commonAnnotations"]["summary"] = f"<!here> lag *{n}* & " + "x" * 400
            assert (await post(bridge, "/alerts/prod-am", body)).status == 202
        listed = await slash(bridge, "alerts")
        assert "*Firing now* (25):" in listed.text
        shown = listed.text.count("Slack only")
        assert 10 <= shown <= 20  # whole lines only, as many as fit one Slack text
        assert f"…and {25 - shown} more" in listed.text
        # the sender's text, inert (the same last seen: any 15 or so of the 25 are shown)
        assert re.search(r"&lt;!here&gt; lag \*[0-9]+\* &amp; x", listed.text)
        assert "<!here>" not in listed.text
        assert len(listed.text) <= 3000
        await bridge.idle()
        assert sms_texts(bridge) == []
    finally:
        await bridge.world.close()
