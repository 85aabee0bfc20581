#!/usr/bin/env bash
# Regenerate the client from openapi.yaml into OUT_DIR (default: generated).
#
# The output is byte-for-byte reproducible: the environment is reset (fixed PATH with only the project's
# .venv and the system directories, fixed hash seed and locale, no user configuration), the generator
# and ruff are the pinned ones from .venv, and ruff reads only generated/pyproject.toml. Templates in
# templates/ override the generator's own of the same name (models/__init__.py: lazy imports).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-"$root/generated"}
venv_bin=${VENV_BIN:-"$root/.venv/bin"}
[ -x "$venv_bin/openapi-python-client" ] || { echo "generate: $venv_bin/openapi-python-client missing; run 'make venv'" >&2; exit 1; }
rm -rf -- "$out"
mkdir -p -- "$(dirname -- "$out")"
cd "$root"
env -i PATH="$venv_bin:/usr/bin:/bin" PYTHONHASHSEED=0 LC_ALL=C.UTF-8 LANG=C.UTF-8 HOME="$(mktemp -d)" \
    "$venv_bin/openapi-python-client" generate \
    --path openapi.yaml --config generator-config.yml --meta pdm --custom-template-path templates \
    --output-path "$out" --fail-on-warning >/dev/null
# What the overlay checks and types, derived from the same spec (never restated by hand): spec.py.
env -i PATH="$venv_bin:/usr/bin:/bin" PYTHONHASHSEED=0 LC_ALL=C.UTF-8 LANG=C.UTF-8 \
    "$venv_bin/python" scripts/spec_types.py "$out"
(cd "$out" && "$venv_bin/ruff" check openrouter_video_api/spec.py --fix-only --no-cache --quiet --config pyproject.toml \
    && "$venv_bin/ruff" format openrouter_video_api/spec.py --no-cache --quiet --config pyproject.toml)
