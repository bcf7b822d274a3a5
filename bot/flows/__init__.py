"""Pure dialogues: (state, incoming) -> (state, messages, effects)."""
