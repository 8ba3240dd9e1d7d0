"""Accounts: who may sign in, with which role; API tokens, page sessions, CSRF, login
throttling, and the audit of sensitive reads (docs/decisions/0011)."""
