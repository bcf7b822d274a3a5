"""The Directory port (accounts), its in-process twin (port.py) and the LDAP adapter (ldap.py)."""
