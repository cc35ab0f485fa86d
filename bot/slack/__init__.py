"""Everything Slack-shaped: verifying and reading requests, the listeners, and the Block Kit the
bridge answers with (built from ``slack_sdk``'s models, so Slack's limits hold by construction)."""
