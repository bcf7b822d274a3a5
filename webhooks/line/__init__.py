"""The LINE channel: the webhook, LINE's message models and limits, the rich menu, set-up."""
