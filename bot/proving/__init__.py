"""Proving the paths: a person's own test of each way they are paged (``/send test-me``), and
canaries that test each outbound channel on a schedule. Both send through the send service, so
their messages are recorded, deduplicated and receipted like any other."""
