"""Pure dialogues: (state, incoming) -> (state, messages, effects)."""

# The request kinds besides the application register themselves in bot.flows.kinds.KINDS.
from bot.flows import handover, rights  # noqa: F401
