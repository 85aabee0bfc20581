"""The clients (async source)."""
