#!/usr/bin/env bash
# Regenerate into a scratch directory and fail, naming the files, if generated/ differs from it, or if
# generated/ differs from what is committed.
#
# --allow-uncommitted skips the second check: `make update-spec` runs this right after regenerating from
# a new spec, when generated/ is meant to differ from the commit until the update is committed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
check_committed=1
case "${1:-}" in
    "") ;;
    --allow-uncommitted) check_committed=0 ;;
    *) echo "usage: $0 [--allow-uncommitted]" >&2; exit 2 ;;
esac
scratch=$(mktemp -d)
trap 'rm -rf -- "$scratch"' EXIT
"$root/scripts/generate.sh" "$scratch/generated"
status=0
if ! diff -rq -x __pycache__ "$scratch/generated" "$root/generated" >"$scratch/diff.txt"; then
    echo "check-generated: generated/ does not match what openapi.yaml + generator-config.yml produce:" >&2
    sed -e "s#$scratch/##g" -e "s#$root/##g" "$scratch/diff.txt" >&2
    status=1
fi
if [ $check_committed = 1 ] && git -C "$root" rev-parse --git-dir >/dev/null 2>&1 \
    && git -C "$root" rev-parse --verify -q HEAD >/dev/null; then
    changed=$(git -C "$root" status --porcelain --untracked-files=all -- generated/ | grep -v '__pycache__' || true)
    if [ -n "$changed" ]; then
        echo "check-generated: generated/ differs from what is committed:" >&2
        echo "$changed" >&2
        status=1
    fi
fi
if [ $status -eq 0 ]; then
    echo "check-generated: generated/ matches openapi.yaml$([ $check_committed = 1 ] || echo ' (not compared with the commit)')"
fi
exit $status
