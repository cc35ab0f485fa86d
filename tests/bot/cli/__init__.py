"""Tests of the command line (``bot/__main__.py``, ``bot/cli``) in real subprocesses."""
