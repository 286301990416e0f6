"""Check that a built wheel ships every package its entry points need, and nothing that collides.

Every top-level package a wheel installs shares one namespace with the consumer's own code:
a generic name (the plugin's folder is called ``pytest_plugin``) would shadow, or be shadowed
by, a consumer's package of that name. So the wheel may install only names of its own.
"""

from __future__ import annotations

import sys
import zipfile

REQUIRED = [
    "zitadel_mock/__init__.py",
    "zitadel_mock/py.typed",
    # Every sub-package: setuptools ships only the packages pyproject lists.
    "zitadel_mock/_waitress/__init__.py",
    "zitadel_mock/cli/__init__.py",
    "zitadel_mock/control/__init__.py",
    "zitadel_mock/generate/__init__.py",
    "zitadel_mock/protocols/__init__.py",
    "zitadel_mock/protocols/rest/__init__.py",
    "zitadel_mock/protocols/grpc/__init__.py",
    "zitadel_mock/protocols/http2/__init__.py",
    # The descriptor set the gRPC messages are loaded from, and its sources.
    "zitadel_mock/protocols/grpc/proto/zitadel.binpb",
    "zitadel_mock/protocols/grpc/proto/management.proto",
    "zitadel_mock/scenario/__init__.py",
    "zitadel_mock_pytest/__init__.py",
    "zitadel_mock_pytest/plugin.py",
]
ENTRY_POINTS = (
    "zitadel_mock = zitadel_mock_pytest.plugin",
    "zitadel-mock = zitadel_mock.cli:console_main",
)
OWN_TOP_LEVEL = ("zitadel_mock", "zitadel_mock_pytest")


def problems(names: set[str], entry_points: str) -> list[str]:
    """What is wrong with a wheel holding these files and entry points (empty: nothing)."""
    found = [f"missing {name}" for name in REQUIRED if name not in names]
    found += [f"missing entry point {e!r}" for e in ENTRY_POINTS if e not in entry_points]
    top = {name.split("/", 1)[0] for name in names if "/" in name}
    top = {t for t in top if not t.endswith((".dist-info", ".data"))}
    top |= {name[:-3] for name in names if "/" not in name and name.endswith(".py")}
    found += [
        f"installs a top-level {t!r}, which can collide with a consumer's own package"
        for t in sorted(top - set(OWN_TOP_LEVEL))
    ]
    return found


def main(path: str) -> int:
    with zipfile.ZipFile(path) as wheel:
        names = set(wheel.namelist())
        entry_points = next(
            (wheel.read(n).decode() for n in names if n.endswith(".dist-info/entry_points.txt")), ""
        )
    found = problems(names, entry_points)
    if found:
        print(f"{path}: {'; '.join(found)}", file=sys.stderr)
        return 1
    print(f"{path}: {len(names)} files, entry points and packages present, no other top level")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
