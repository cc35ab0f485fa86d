"""Tests of on-call calendars (``bot/oncall``)."""
