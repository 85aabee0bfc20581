"""The async source of the clients (``_sync/`` is generated from it by scripts/unasync.py)."""
