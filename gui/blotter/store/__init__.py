"""Persistence: configuration (no secrets), credentials (OS keyring or memory), audit."""
