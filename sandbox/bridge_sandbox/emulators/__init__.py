"""Local stand-ins for the providers' APIs, written from docs/providers/*.txt (see common.py)."""
