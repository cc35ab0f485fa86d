"""Tests of the Slack surface (``bot/slack``): commands, modals, shortcuts, buttons, Block Kit."""
