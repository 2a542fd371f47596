"""API keys: only their hash is stored."""
