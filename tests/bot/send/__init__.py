"""Tests of the send service (``bot/send``): crashes, takeovers, replicas, recovery."""
