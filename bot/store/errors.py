"""The send record's errors, apart from the interface so that every store module (and
``leases``, which the interface names) can raise them without importing the interface."""

from __future__ import annotations

from collections.abc import Sequence

from providers.base import Recipient


class StoreError(Exception):
    """The send record refused an operation; the message never holds a secret or a number."""


class UnknownRequest(StoreError, LookupError):
    def __init__(self, request_id: str) -> None:
        super().__init__(f"no request {request_id!r} in the send record")
        self.request_id = request_id


class UnknownRecipients(StoreError, LookupError):
    """Outcomes or attempts named recipients the request does not have (a caller bug)."""

    def __init__(self, request_id: str, refs: Sequence[str]) -> None:
        shown = ", ".join(repr(r) for r in refs[:5]) + (" …" if len(refs) > 5 else "")
        super().__init__(f"request {request_id!r} has no recipient(s) with ref {shown}")
        self.request_id = request_id
        self.refs = tuple(refs)


def raise_unmatched(request_id: str, unmatched: Sequence[Recipient]) -> None:
    """After committing what matched: a caller that names strangers has a bug worth seeing."""
    if unmatched:
        raise UnknownRecipients(request_id, [r.ref or "(no ref)" for r in unmatched])


class SchemaTooNew(StoreError):
    """The database was migrated by a newer bridge; opening it with this one could corrupt it."""
