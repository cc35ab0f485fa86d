"""Prometheus metrics, in one place so every module counts the same things the same way."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

REQUESTS = Counter(
    "bridge_requests_total",
    "Send requests by surface (slash, modal, broadcast, shortcut, cli) and outcome.",
    ["surface", "outcome"],
    registry=REGISTRY,
)

MESSAGES = Counter(
    "bridge_messages_total",
    "Per-recipient outcomes by provider account and outcome (sent, failed, unknown, ...).",
    ["provider", "outcome"],
    registry=REGISTRY,
)

PROVIDER_LATENCY = Histogram(
    "bridge_provider_request_seconds",
    "Wall time of one provider HTTP attempt, by provider account and result kind.",
    ["provider", "result"],
    buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=REGISTRY,
)

ATTEMPT_RECORD_WAIT = Histogram(
    "bridge_attempt_record_seconds",
    "How long a provider call waited for its attempt to be recorded, by provider account: "
    "the send record's share of every call (it is on the path to the provider).",
    ["provider"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1),
    registry=REGISTRY,
)

PROVIDER_ATTEMPTS = Counter(
    "bridge_provider_attempts_total",
    "Provider HTTP attempts by provider account and result (ok, retryable, ambiguous, permanent).",
    ["provider", "result"],
    registry=REGISTRY,
)

RECEIPTS = Counter(
    "bridge_receipts_total",
    "Delivery receipts by provider account and status (sent, delivered, read, failed), or why "
    "one was refused or ignored (unauthenticated, malformed, not_configured, ignored).",
    ["provider", "status"],
    registry=REGISTRY,
)

RECEIPTS_UNMATCHED = Counter(
    "bridge_receipts_unmatched_total",
    "Receipts the bridge could not use, by provider account and reason: unknown_send (no send "
    "has its message id or ref; held a while in case the send is still being recorded) or "
    "unknown_status (a status word this bridge does not read). Each is also logged as a warning.",
    ["provider", "reason"],
    registry=REGISTRY,
)

RECORDS_PURGED = Counter(
    "bridge_records_purged_total",
    "Rows removed from the send record by defaults.keep_records, by table.",
    ["table"],
    registry=REGISTRY,
)

OWNED = Gauge(
    "bridge_sends_owned",
    "Sends (request groups) this replica holds the lease of: sending or reporting them.",
    ["replica"],
    registry=REGISTRY,
)

TAKEOVERS = Counter(
    "bridge_lease_takeovers_total",
    "Sends this replica took over because their owner stopped renewing its lease.",
    ["replica"],
    registry=REGISTRY,
)

# Pages, by escalation name (config names only: never a number or a person). Each is counted
# where the page's state change is committed (a compare-and-set in the store), so two replicas
# racing for one move count it once between them.
PAGES_STARTED = Counter(
    "bridge_pages_started_total",
    "Pages started, by escalation.",
    ["escalation"],
    registry=REGISTRY,
)

PAGES_ESCALATED = Counter(
    "bridge_pages_escalated_total",
    "Steps a page ran after its first (a later step, or step 1 of a repeat), by escalation: "
    "each is a step nobody acknowledged before its wait ran out.",
    ["escalation"],
    registry=REGISTRY,
)

PAGES_ACKNOWLEDGED = Counter(
    "bridge_pages_acknowledged_total",
    "Pages acknowledged, by escalation.",
    ["escalation"],
    registry=REGISTRY,
)

PAGES_UNANSWERED = Counter(
    "bridge_pages_ended_unanswered_total",
    "Pages that ran every step (and repeat) with nobody acknowledging, by escalation.",
    ["escalation"],
    registry=REGISTRY,
)

PAGE_ACK_SECONDS = Histogram(
    "bridge_page_ack_seconds",
    "Time from a page's start to its acknowledgement, by escalation.",
    ["escalation"],
    buckets=(5, 15, 30, 60, 120, 300, 600, 900, 1800, 2700, 3600),
    registry=REGISTRY,
)

# Canaries (bot.proving.canaries): read from the store every canary tick, so every replica
# reports the same health whichever one ran the test.
CHANNEL_HEALTHY = Gauge(
    "bridge_channel_healthy",
    "1 if the channel's last canary passed, 0 if it failed; absent before its first run.",
    ["channel"],
    registry=REGISTRY,
)

CHANNEL_LAST_OK = Gauge(
    "bridge_channel_last_ok_timestamp_seconds",
    "Unix time of the channel's last canary that passed (absent: none yet).",
    ["channel"],
    registry=REGISTRY,
)
