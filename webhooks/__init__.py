"""The edge: command line, channels (console; LINE and Telegram later), composition root."""
