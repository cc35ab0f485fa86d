"""Tests of delivery receipts (``bot/receipts.py``) through the real HTTP server."""
