"""Local HTTP emulators of the chat platforms, driven by the real SDK clients in tests."""
