"""Apply one of the spec edits kept here to openapi.yaml, giving a whole new spec.

An edit is a YAML list of steps in the manner of JSON Patch (RFC 6902), each
``{op: add | remove | replace | test, path: [key, ...], value: ...}``: the path is a list of keys from
the document's root (list indexes as integers, ``-`` to append to a list). A list item can also be
named by what it is, so that an edit still fits when the spec lists more before it: ``{'=': 4K}`` is
the item equal to ``4K``, ``{name: index}`` the mapping whose ``name`` is ``index`` (exactly one item
must match). ``add`` refuses a key that exists and, in a list, inserts before the index it is given
(JSON Patch's rule); ``remove`` and ``replace`` refuse a key that does not exist, and ``test`` fails
unless the value is there, so an edit that no longer fits openapi.yaml fails loudly instead of quietly
changing something else.

    .venv/bin/python tests/spec_edits/apply.py tests/spec_edits/breaking.yaml > /tmp/breaking.yaml
    make update-spec SPEC=/tmp/breaking.yaml      # in a scratch clone: it rewrites openapi.yaml
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
EDITS = ("additive", "breaking", "enum_first", "unseen")


def _index(parent: Any, key: Any, where: str) -> Any:
    """``key``, or the index of the one list item a selector (``{'=': value}``, ``{field: value}``) names."""
    if not isinstance(key, dict):
        return key
    if not isinstance(parent, list):
        raise ValueError(f"{where}: {key!r} selects a list item, and this is no list")
    if "=" in key:
        found = [i for i, item in enumerate(parent) if item == key["="]]
    else:
        found = [
            i
            for i, item in enumerate(parent)
            if isinstance(item, dict) and all(item.get(field) == value for field, value in key.items())
        ]
    if len(found) != 1:
        raise ValueError(f"{where}: {key!r} matches {len(found)} items of the list, not one")
    return found[0]


def apply_edit(spec: Any, steps: list[dict[str, Any]]) -> Any:
    """A copy of ``spec`` with ``steps`` applied in order."""
    spec = copy.deepcopy(spec)
    for number, step in enumerate(steps, start=1):
        op, path = step["op"], list(step["path"])
        where = f"step {number} ({op} {path})"
        parent = spec
        for key in path[:-1]:
            try:
                parent = parent[_index(parent, key, where)]
            except (KeyError, IndexError, TypeError):
                raise ValueError(f"{where}: {key!r} is not in the spec") from None
        last = _index(parent, path[-1], where)
        exists = (
            (last in parent) if isinstance(parent, dict) else (isinstance(last, int) and last < len(parent))
        )
        if op == "add":
            if isinstance(parent, list) and last == "-":
                parent.append(copy.deepcopy(step["value"]))
                continue
            if isinstance(parent, list) and isinstance(last, int) and last <= len(parent):
                parent.insert(last, copy.deepcopy(step["value"]))
                continue
            if exists:
                raise ValueError(f"{where}: already in the spec")
            parent[last] = copy.deepcopy(step["value"])
        elif op == "test":
            if not exists or parent[last] != step["value"]:
                raise ValueError(f"{where}: the spec does not have {step['value']!r} there")
        elif op in ("remove", "replace"):
            if not exists:
                raise ValueError(f"{where}: not in the spec")
            if op == "remove":
                del parent[last]
            else:
                parent[last] = copy.deepcopy(step["value"])
        else:
            raise ValueError(f"{where}: unknown op {op!r}")
    return spec


def edited_spec(edit: Path, base: Path = ROOT / "openapi.yaml") -> str:
    """``base`` with the edit in the file ``edit`` applied, as YAML text."""
    steps = yaml.safe_load(edit.read_text())
    spec = apply_edit(yaml.safe_load(base.read_text()), steps)
    return yaml.safe_dump(spec, sort_keys=False, allow_unicode=True, width=120)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} tests/spec_edits/{{{','.join(EDITS)}}}.yaml > new-openapi.yaml")
    sys.stdout.write(edited_spec(Path(sys.argv[1])))
