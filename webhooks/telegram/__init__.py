"""The Telegram channel: webhook or long polling, updates, messages, flood limits, set-up."""
