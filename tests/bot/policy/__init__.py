"""Tests of who may do what (``bot/policy``) and user-group membership (``bot/directory.py``)."""
