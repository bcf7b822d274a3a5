"""Who did what, provably: the audit trail, its hash chain and check, and the security log."""
