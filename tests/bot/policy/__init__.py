"""Tests of who may send what where (``bot/policy.py``, ``bot/directory.py``)."""
