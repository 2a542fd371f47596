"""Random tokens handed to a browser or printed once; only their SHA-256 is stored."""

from __future__ import annotations

import hashlib
import secrets


def new_token() -> str:
    """A new token: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """The stored form of ``token`` (a fast hash is enough for 256 random bits)."""
    return hashlib.sha256(token.encode()).hexdigest()
