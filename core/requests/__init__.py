"""Requests and their state changes (submit, correct, decide, fulfil, suspend), and their views."""
