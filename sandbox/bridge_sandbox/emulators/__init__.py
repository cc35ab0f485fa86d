"""Local stand-ins for the providers' APIs, written from provider-docs/ (see common.py)."""
