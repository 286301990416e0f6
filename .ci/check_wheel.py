"""Check that a built wheel ships every package its entry points need."""

from __future__ import annotations

import sys
import zipfile

REQUIRED = [
    "zitadel_mock/__init__.py",
    "zitadel_mock/py.typed",
    "zitadel_mock/cli.py",
    "pytest_plugin/__init__.py",
    "pytest_plugin/plugin.py",
]


def main(path: str) -> int:
    with zipfile.ZipFile(path) as wheel:
        names = set(wheel.namelist())
        entry_points = next(
            (wheel.read(n).decode() for n in names if n.endswith(".dist-info/entry_points.txt")), ""
        )
    missing = [name for name in REQUIRED if name not in names]
    for needed in ("zitadel_mock = pytest_plugin.plugin", "zitadel-mock = zitadel_mock.cli:main"):
        if needed not in entry_points:
            missing.append(f"entry point {needed!r}")
    if missing:
        print(f"{path}: missing {', '.join(missing)}", file=sys.stderr)
        return 1
    print(f"{path}: {len(names)} files, entry points and packages present")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
