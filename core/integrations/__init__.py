"""Adapters for third-party clients (the one place in core that may import them)."""
