"""The SMS port and the demo's phone (port.py), and the HTTP gateway adapter (http.py)."""
