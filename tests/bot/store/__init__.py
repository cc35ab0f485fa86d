"""Tests of the send record (``bot/store``, ``bot/retention.py``), on both backends."""
