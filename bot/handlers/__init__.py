"""Glue: route an Incoming, run the flow, carry out effects through core, save."""

# The circular's request kinds register the jobs their approvals set going (kinds.py).
from bot.handlers import request_jobs  # noqa: F401
