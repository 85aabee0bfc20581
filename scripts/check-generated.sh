#!/usr/bin/env bash
# Regenerate into a scratch directory and fail, naming the files, if generated/ differs from what
# openapi.yaml, generator-config.yml and templates/ in the working tree produce. That needs no commit:
# `make update-spec` then `make test` pass before openapi.yaml, generated/ and CHANGELOG.md are committed.
#
# Then, in a git checkout, generated/ is compared with the commit: it may differ from it only while one
# of its inputs does too (an update not committed yet, said in the last line). A generated/ that differs
# from the commit while its inputs do not was committed out of step with them (or changed since): fail.
#
# --allow-uncommitted skips that second check (`make update-spec` runs this right after regenerating).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
check_committed=1
case "${1:-}" in
    "") ;;
    --allow-uncommitted) check_committed=0 ;;
    *) echo "usage: $0 [--allow-uncommitted]" >&2; exit 2 ;;
esac
inputs=(openapi.yaml generator-config.yml templates scripts/generate.sh scripts/spec_types.py)
scratch=$(mktemp -d)
trap 'rm -rf -- "$scratch"' EXIT
"$root/scripts/generate.sh" "$scratch/generated"
status=0
note=""
if ! diff -rq -x __pycache__ "$scratch/generated" "$root/generated" >"$scratch/diff.txt"; then
    echo "check-generated: generated/ does not match what openapi.yaml + generator-config.yml produce:" >&2
    sed -e "s#$scratch/##g" -e "s#$root/##g" "$scratch/diff.txt" >&2
    status=1
fi
if [ $check_committed = 0 ]; then
    note=" (not compared with the commit)"
elif git -C "$root" rev-parse --git-dir >/dev/null 2>&1 && git -C "$root" rev-parse --verify -q HEAD >/dev/null; then
    changed=$(git -C "$root" status --porcelain --untracked-files=all -- generated/ | grep -v '__pycache__' || true)
    pending=$(git -C "$root" status --porcelain --untracked-files=all -- "${inputs[@]}" | cut -c4- | tr '\n' ' ' || true)
    if [ -n "$changed" ] && [ -z "$pending" ]; then
        echo "check-generated: generated/ differs from what is committed, and ${inputs[*]} do not:" >&2
        echo "$changed" >&2
        echo "check-generated: commit generated/ with the spec it was made from, or restore it (git checkout -- generated)" >&2
        status=1
    elif [ -n "$changed" ]; then
        note=" (not committed yet, with ${pending% }: commit them together)"
    fi
fi
if [ $status -eq 0 ]; then
    echo "check-generated: generated/ matches openapi.yaml$note"
fi
exit $status
