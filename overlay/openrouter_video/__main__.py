"""``python -m openrouter_video``: the same as the ``openrouter-video`` command."""

from .cli import run

if __name__ == "__main__":
    run()
