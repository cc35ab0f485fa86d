"""config/emulators.yaml, the README's "try it from a terminal" config: it loads, and every
channel in it really sends through the emulators it points at."""

from __future__ import annotations

import io
import re
from argparse import Namespace
from pathlib import Path

from bridge_sandbox.emulators.suite import start_suite

import config
from bot.cli.oncall import run_oncall
from bot.cli.paging import run_ack, run_page
from bot.cli.send import run_send
from bot.server.env import read_env
from bot.store import open_store, utcnow

TRY = Path(config.__file__).with_name("emulators.yaml")
KEYS = {
    "TALKNTALK_API_KEY": "tnt-demo-key",
    "AUTOKONNECT_API_KEY": "ak-demo-key",
    "KALEYRA_API_KEY": "kal-demo-key",
}


def send_args(channel: str, to: str = "") -> Namespace:
    return Namespace(
        channel=channel,
        to=to,
        type="text",
        text="Disk full on db-1",
        media_url=None,
        filename=None,
        mime_type=None,
        template_id=None,
        language=None,
        components=None,
        interactive=None,
        preview_url=False,
    )


async def test_every_channel_of_the_try_config_sends_through_the_emulators(
    tmp_path: Path,
) -> None:
    suite = await start_suite()
    try:
        env = {
            **KEYS,
            "TNT_URL": suite.url("talkntalk"),
            "AK_URL": suite.url("autokonnect"),
            "KAL_URL": suite.url("kaleyra"),
        }
        settings = config.load(TRY, env)
        async with open_store(tmp_path / "bridge.db") as store:
            for name, channel in settings.channels.items():
                to = "" if channel.recipients else "+919812345678"
                out = io.StringIO()
                assert await run_send(send_args(name, to), settings, store, out=out) == 0, (
                    out.getvalue()
                )
                if name == "customers":  # tag:42 is three numbers at AutoKonnect
                    assert "The provider queued it for 3 people." in out.getvalue()
    finally:
        await suite.close()
    assert len(suite.talkntalk.deliveries) == 2 + 2 + 1  # sms, whatsapp, group
    assert len(suite.autokonnect.deliveries) == 3  # tag:42
    assert len(suite.kaleyra.deliveries) == 1


async def test_the_try_config_pages_and_acknowledges_from_the_terminal(tmp_path: Path) -> None:
    """README's terminal walk-through of paging: `oncall`, `page`, `ack` on this config."""
    suite = await start_suite()
    try:
        env = {**KEYS, "TNT_URL": suite.url("talkntalk")}
        settings = config.load(TRY, env)
        bridge_env = read_env({"BRIDGE_DB": str(tmp_path / "bridge.db")})
        shown = io.StringIO()
        assert run_oncall(Namespace(name="db-outage"), settings, utcnow(), out=shown) == 0
        assert "  step 2: amina, brian by oncall-sms, then wait 10m" in shown.getvalue()
        async with open_store(bridge_env.db) as store:
            out = io.StringIO()
            args = Namespace(escalation="db-outage", text=["Disk", "full"])
            assert await run_page(args, settings, bridge_env, store, out=out) == 0, out.getvalue()
            page_id = out.getvalue().split()[1].rstrip(":")
            assert re.search(r"  step 1  (amina|brian) +by oncall-sms +sent", out.getvalue())
            acked = io.StringIO()
            ack = Namespace(page_id=page_id)
            assert await run_ack(ack, settings, bridge_env, store, out=acked) == 0
            assert f"Acknowledged page {page_id} (db-outage)" in acked.getvalue()
    finally:
        await suite.close()
    assert len(suite.talkntalk.deliveries) == 1
