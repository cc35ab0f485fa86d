"""Tests of the HTTP server, environment, logs and probes (``bot/server``)."""
