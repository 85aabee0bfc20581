"""The drivers and the retrying transport's sending half (sync, generated)."""
