"""What ``python -m bot check`` tells the operator: every problem at once, the fallback that
cannot happen, the ``--at`` time, and numbers that can be told apart.

The command runs through ``bot.__main__.main`` as an operator would call it; output is read from
stdout/stderr. Times are given with ``--at`` or to ``config.load``; the wall clock decides nothing.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from bot.__main__ import main
from config.numbers import mask_address, mask_for_operator
from tests.config.helpers import ENV, problems, write

ESCALATION = """\
defaults:
  country: KE
providers:
  tnt:
    type: talkntalk
    api_key: ${TNT_KEY}{hook}
  kal:
    type: kaleyra
    api_key: ${KAL_KEY}
    sid: HXAP16XXXXXX97IN
    pod: in
senders:
  sre: [U012ABCDEF]
channels:
  pager-sms:
    provider: tnt
    service: sms
    sender_id: ACME
    allowed_senders: [sre]
    allow_adhoc: true
  pager-wa:
    provider: kal
    service: whatsapp
    from: "+918123456789"
    allowed_senders: [sre]
    allow_adhoc: true
people:
  alice: {phone: "+254712345678", whatsapp: "+254712340678"}
  bob: {phone: "+254798765432"}
schedules:
  primary:
    timezone: Africa/Nairobi
    rotation: {start: "2026-11-02T09:00", every: 1w, people: [alice, bob]}
escalations:
  db:
    allowed_senders: [sre]
    steps:
      - {notify: [alice], via: [pager-sms, pager-wa], wait: 5m}
    fallback_after: 2m
"""


def _check(
    tmp_path: Path,
    text: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    *extra: str,
) -> tuple[int, str, str]:
    for name, value in {**ENV, "TNT_HOOK": "tnt-hook-secret-0005"}.items():
        monkeypatch.setenv(name, value)
    path = write(tmp_path, text)
    code = main(["--config", str(path), "check", *extra])
    out = capsys.readouterr()
    return code, out.out, out.err


def _with_hook(hook: bool) -> str:
    return ESCALATION.replace("{hook}", "\n    webhook_secret: ${TNT_HOOK}" if hook else "")


def test_check_says_paging_works_and_warns_of_a_fallback_that_cannot_happen(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = _check(tmp_path, _with_hook(False), capsys, monkeypatch)
    assert code == 0
    assert "not active yet" not in out
    assert "Escalations (/send page NAME)" in out
    assert "    repeat 0, fallback after 2m\n" in out
    assert (
        "    warning: no fallback on time from pager-sms: only a channel with delivery "
        "receipts moves on after 2m undelivered\n"
        "      pager-sms: its account tnt has no webhook_secret\n"
    ) in out


def test_no_fallback_warning_once_the_account_reports_delivery(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = _check(tmp_path, _with_hook(True), capsys, monkeypatch)
    assert code == 0
    assert "fallback after 2m" in out
    assert "warning:" not in out
    assert "tnt-hook-secret-0005" not in out


def test_check_at_labels_the_time_it_was_given_not_now(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = _check(
        tmp_path, _with_hook(True), capsys, monkeypatch, "--at", "2026-11-24T17:00Z"
    )
    assert code == 0
    assert "    at Tue 2026-11-24 20:00  bob until Mon 2026-11-30 09:00\n" in out
    assert "    now " not in out


def test_two_numbers_of_one_person_differ_in_check_but_are_never_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # the old mask showed both as +2547•••••678: a mistyped WhatsApp number went unseen
    assert mask_address("+254712345678") == mask_address("+254712340678")
    code, out, _ = _check(tmp_path, _with_hook(True), capsys, monkeypatch)
    assert code == 0
    assert "alice       phone +2547••••5678, whatsapp +2547••••0678" in out
    assert "+254712345678" not in out
    assert "+254712340678" not in out
    assert mask_for_operator("120363410923125768@g.us") == "120363410923125768@g.us"


def test_unknown_keys_hide_no_other_problem(tmp_path: Path) -> None:
    """A stray key in a provider and in an escalation step used to drop the whole entry, so the
    reference problems behind it showed only after the key was fixed."""
    text = textwrap.dedent(
        """\
        defaults:
          country: KE
          colour: red
        providers:
          tnt:
            type: talkntalk
            api_key: ${TNT_KEY}
            bogus: 1
        senders:
          sre: [U012ABCDEF]
        channels:
          pager:
            provider: tnt
            service: whatsapp
            allowed_senders: [sre, ghost]
            allow_adhoc: true
        people:
          alice: {phone: "0712 345 678"}
        escalations:
          db:
            allowed_senders: [sre, nobody]
            steps:
              - notify: [alice, zed]
                via: [pager]
                wait: 2m
                extra: 1
        """
    )
    found = [str(p) for p in problems(tmp_path, text)]
    path = str(tmp_path / "bridge.yaml")
    messages = [line.removeprefix(f"{path}:") for line in found]
    assert [m.split(":")[0] for m in messages] == ["3", "8", "12", "15", "21", "23", "26"]
    assert messages[0].startswith("3: defaults.colour: unknown key 'colour'")
    assert messages[1].startswith("8: providers.tnt.bogus: unknown key 'bogus'")
    # checked against the talkntalk account although that entry had a stray key
    assert messages[2] == (
        "12: channels.pager: a whatsapp channel needs session_id (the chat_id from List Phones)"
    )
    assert messages[3].startswith("15: channels.pager.allowed_senders[1]: unknown sender group")
    assert messages[4].startswith("21: escalations.db.allowed_senders[1]: unknown sender group")
    assert messages[5].startswith("23: escalations.db.steps[0].notify[1]: 'zed' is not a person")
    assert messages[6].startswith("26: escalations.db.steps[0].extra: unknown key 'extra'")
