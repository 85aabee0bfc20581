"""The clients (sync, generated)."""
