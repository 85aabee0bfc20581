"""The drivers and the retrying transport's sending half (async source)."""
