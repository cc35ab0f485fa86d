"""The terminal's commands beside ``serve``: ``send`` and ``history`` (``check`` and ``demo`` are
small enough to live in ``bot.__main__``)."""
