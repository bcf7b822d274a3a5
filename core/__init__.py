"""Domain: models, validation, applications, documents, storage; no platform knowledge."""
