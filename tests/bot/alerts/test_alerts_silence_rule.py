"""Which silence holds a notification, as plain values: every pair equal to the common labels,
or carried by every alert of the group; none never holds a mixed group; no pairs hold all."""

from __future__ import annotations

from datetime import timedelta

from bot.alerts.payloads import Alert, Notification
from bot.alerts.silences import holds, new_silence_id, silencing
from bot.store.silences_base import Silence
from tests.bot.paging_kit import START


def note(common: dict[str, str], *instances: str) -> Notification:
    alerts = [
        Alert("firing", {**common, "instance": i}, {}, "2026-11-24T03:00:00Z", "")
        for i in instances
    ]
    return Notification("trigger", "g", common, {}, alerts, [])


def silence(*pairs: tuple[str, str], silence_id: str = "S1") -> Silence:
    return Silence(
        silence_id, "prod-am", pairs, "", "U0ALICE001", START, START + timedelta(hours=1)
    )


def test_pairs_match_common_labels_or_every_alert() -> None:
    common = {"alertname": "DiskFull", "severity": "critical"}
    assert holds(silence(("alertname", "DiskFull")), note(common, "db-1", "db-2"))
    assert holds(silence(("instance", "db-1")), note(common, "db-1"))
    assert holds(silence(("instance", "db-1")), note(common, "db-1", "db-1"))
    assert not holds(silence(("instance", "db-1")), note(common, "db-1", "db-2"))
    assert not holds(silence(("alertname", "DiskFull"), ("severity", "warning")), note(common))
    assert holds(silence(), note(common))  # no pairs: every alert of the integration
    assert not holds(silence(("instance", "db-1")), note(common))  # no alerts, not in common


def test_the_first_silence_in_force_that_holds_is_chosen_and_ids_are_typeable() -> None:
    chosen = silencing(
        [silence(("instance", "db-9"), silence_id="S1"), silence(silence_id="S2")],
        note({"alertname": "DiskFull"}, "db-1"),
    )
    assert chosen is not None
    assert chosen.silence_id == "S2"
    made = new_silence_id()
    assert len(made) == 9
    assert made.startswith("S")
    assert made == made.upper()
