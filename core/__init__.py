"""Domain and storage: rules, requests, delivery, storage, audit, the directory and SMS ports."""
