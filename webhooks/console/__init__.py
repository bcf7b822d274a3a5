"""The terminal channel: `bmabot chat`, the real handlers in a shell."""
