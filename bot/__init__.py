"""chatops-bridge: send SMS and WhatsApp from Slack through the team's own provider accounts."""
