"""The send service, built by composition: ``service`` (the facade listeners and the CLI call),
``run`` (record, start, dispatch in the background, report), ``recovery`` (after a restart) and
``followups`` (confirm, cancel, retry, status, history, receipts), sharing ``live`` and ``records``.
"""
