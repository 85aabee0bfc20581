"""The async source of the drivers (``io/_sync/`` is generated from it by scripts/unasync.py)."""
