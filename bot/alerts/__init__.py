"""Alerts from monitoring: Alertmanager, Grafana Alerting and Events API v2 start, update and
end pages on their own (README "Alerts from monitoring").

``payloads`` reads what a source sends, ``detail`` bounds and shows it, ``text`` makes the
page's words, ``service`` records a notification and moves its group's page, ``silences``
says which silence holds a group, ``storm`` words a storm page, ``messages`` shows a group
that has no page, ``heartbeats`` records pings and pages misses, ``web`` is the HTTP face
(``POST /alerts/<integration>``, ``POST /alerts/v2/enqueue``, ``POST /heartbeat/<name>``).
"""
