"""The running process: environment, logging, metrics, the wiring of every part (``runtime``),
the HTTP server (``web``) and the ``serve``/``socket`` entry points (``servers``)."""
