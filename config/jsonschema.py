"""The JSON Schema of ``config/bridge.yaml``, generated from the models, for editors.

``python -m config.jsonschema`` rewrites ``config/bridge.schema.json``; ``--check`` exits 1 when
the committed file is stale (a test runs the same check).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from config.schema import SECRET_FIELDS, BridgeConfig

SCHEMA_PATH = Path(__file__).with_name("bridge.schema.json")
SCHEMA_ID = "https://github.com/chatops-bridge/chatops-bridge/config/bridge.schema.json"
REGENERATE = "python -m config.jsonschema"


# Editor hints for the account settings every provider shares (providers/base.py), so the
# schema does not depend on the adapters' developer docstrings.
ACCOUNT_FIELDS = {
    "type": "Which provider this account is with.",
    "api_key": "The account's API key, read from the environment only: write ${VAR}.",
    "base_url": "Override the provider's documented URL, e.g. for a sandbox or a proxy.",
    "timeout_seconds": "Seconds to wait for a reply once a request is sent (default 15).",
    "connect_timeout_seconds": "Seconds to wait to connect (default 5).",
    "rate_per_minute": "Requests per minute for this account; default: the provider's own.",
    "max_concurrency": "Requests in flight at once for this account (default 16).",
    "max_batch": "AutoKonnect: most recipients in one request (default 1000).",
    "sid": "Kaleyra: the account SID (part of the URL, not a secret).",
    "pod": "Kaleyra: the data-centre pod, in, sg or eu (or set base_url).",
}
ACCOUNT_TITLES = {
    "TalkNTalkConfig": "A TalkNTalk account: sms, whatsapp and whatsapp_group.",
    "AutoKonnectConfig": "An AutoKonnect account: waba (WhatsApp Business).",
    "KaleyraConfig": "A Kaleyra account: whatsapp (text).",
}
ENV_REFERENCE = r"^\$\{[A-Za-z_][A-Za-z0-9_]*\}$"


def schema() -> dict[str, Any]:
    """The schema as a dict; secrets are plain strings (``${VAR}`` in the file)."""
    generated = BridgeConfig.model_json_schema(by_alias=True)
    head: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "chatops-bridge config (config/bridge.yaml)",
        "description": (
            "Provider accounts, contact lists, sender groups, outbound channels and broadcast "
            "presets. ${VAR} and ${VAR:-default} are replaced from the environment; api_key "
            "must be ${VAR}. Cross-references and numbers are checked by `python -m bot check`."
        ),
    }
    for name, description in ACCOUNT_TITLES.items():
        account = generated["$defs"][name]
        account["description"] = description
        for field, hint in ACCOUNT_FIELDS.items():
            if field in account["properties"]:
                account["properties"][field]["description"] = hint
        for secret in SECRET_FIELDS:  # every secret, so editors flag a literal one
            if secret in account["properties"]:
                prop = account["properties"][secret]
                target = next((a for a in prop.get("anyOf", []) if a.get("type") == "string"), prop)
                target["pattern"] = ENV_REFERENCE
    key = generated["$defs"]["IntegrationConfig"]["properties"]["key"]
    key["pattern"] = ENV_REFERENCE
    generated["$defs"]["HeartbeatConfig"]["properties"]["key"]["pattern"] = ENV_REFERENCE
    generated.pop("title", None)
    generated.pop("description", None)
    return {**head, **generated}


def render() -> str:
    return json.dumps(schema(), indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def parser() -> argparse.ArgumentParser:
    """Only ``--check`` and ``--help``: anything else (``--help`` included) must not write."""
    cli = argparse.ArgumentParser(
        prog=REGENERATE,
        description=f"Write the JSON Schema of config/bridge.yaml to config/{SCHEMA_PATH.name}.",
    )
    cli.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if the file is out of date"
    )
    return cli


def main(argv: list[str], path: Path = SCHEMA_PATH) -> int:
    """Parse ``argv`` first: ``--help`` and a mistyped option exit there, before any write."""
    args = parser().parse_args(argv)
    text = render()
    if args.check:
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current != text:
            print(f"{path} is out of date: run {REGENERATE}", file=sys.stderr)
            return 1
        return 0
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
