#!/usr/bin/env python3
"""Print the runtime dependencies installed in this interpreter's environment, and check them against
pyproject.toml's ranges (run by make test-deps in each of its environments).

    python scripts/check_deps.py lowest-direct   # every dependency is at the floor of its range
    python scripts/check_deps.py highest         # every dependency is within its range
"""

from __future__ import annotations

import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent


def main(resolution: str) -> int:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    problems = []
    found = []
    for line in project["dependencies"]:
        requirement = Requirement(line)
        installed = Version(version(requirement.name))
        found.append(f"{requirement.name} {installed}")
        if installed not in requirement.specifier:
            problems.append(f"{requirement.name} {installed} is outside {requirement.specifier}")
        floors = [Version(spec.version) for spec in requirement.specifier if spec.operator == ">="]
        if resolution == "lowest-direct" and floors and installed != floors[0]:
            problems.append(f"{requirement.name} {installed} is not the floor {floors[0]}")
    print(f"{resolution} on Python {sys.version.split()[0]}: {', '.join(found)}")
    for problem in problems:
        print(f"check_deps: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "highest"))
