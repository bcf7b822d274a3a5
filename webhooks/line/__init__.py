"""The LINE channel: the webhook, LINE's message models and limits, the rich menu, set-up."""

from webhooks.line.sdk_imports import defer_package_inits

defer_package_inits()  # before any module of this package imports the SDK
