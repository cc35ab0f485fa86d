"""Hypothesis fuzzing of the real HTTP server; FUZZ_EXAMPLES sets how long it runs."""
