"""Glue: route an Incoming, run the flow, carry out effects through core, save."""
