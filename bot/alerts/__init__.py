"""Alerts from monitoring: Alertmanager, Grafana Alerting and Events API v2 start, update and
end pages on their own (README "Alerts from monitoring").

``payloads`` reads what a source sends, ``detail`` bounds and shows it, ``text`` makes the
page's words, ``service`` records a notification and moves its group's page, ``web`` is the
HTTP face (``POST /alerts/<integration>``, ``POST /alerts/v2/enqueue``).

Seams left for later work: silences (``service.AlertService.notify`` is where a silenced group
would be recorded and not paged), storms (``Integration.storm`` is parsed and checked), ``/send
alerts`` (``alert_groups`` holds every firing group) and heartbeats.
"""
