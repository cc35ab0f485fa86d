"""Tests of pages (``bot/paging``) end to end and in parts."""
