"""Conversation: handlers route neutral events; flows define the Thai dialogues."""
