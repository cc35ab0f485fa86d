"""A loopback Slack for tests and ``python -m bot demo``: Web API, response_urls, signed requests.

Why: the bridge must be exercised end to end with no network and no Slack account. The pieces:
``slack_api`` (server), ``state`` (what it recorded), ``signing`` and ``payloads`` (what a person's
clicks send to the app), ``transcript`` (the channel as a person reads it).
"""

from bridge_sandbox.slack.slack_api import SlackSandbox, create_slack_app, start_slack_sandbox
from bridge_sandbox.slack.state import PostedMessage, SlackState
from bridge_sandbox.slack.user import SlackUser, send_to_app

__all__ = [
    "PostedMessage",
    "SlackSandbox",
    "SlackState",
    "SlackUser",
    "create_slack_app",
    "send_to_app",
    "start_slack_sandbox",
]
