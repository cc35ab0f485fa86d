"""Tests of the dispatcher: attempt claims, batches, pacing (``bot/dispatch*.py``, ``pacer.py``)."""
