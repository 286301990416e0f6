"""Build ``zitadel_mock/protocols/grpc/proto/zitadel.binpb`` from the ``.proto`` files beside it.

    python scripts/build_protos.py          # write it
    python scripts/build_protos.py --check  # exit 1 if it is not what the .proto files give

Needs grpcio-tools (a development dependency): it ships ``protoc`` and the well-known types.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

PROTO_DIR = Path(__file__).resolve().parent.parent / "zitadel_mock/protocols/grpc/proto"
OUTPUT = PROTO_DIR / "zitadel.binpb"


def build() -> bytes:
    """The descriptor set (imports included) protoc makes of every .proto file, in name order."""
    from grpc_tools import protoc

    sources = sorted(p.name for p in PROTO_DIR.glob("*.proto"))
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "set.binpb"
        status = protoc.main(
            [
                "protoc",
                f"-I{PROTO_DIR}",
                f"-I{Path(protoc.__file__).parent / '_proto'}",
                "--include_imports",
                f"--descriptor_set_out={out}",
                *sources,
            ]
        )
        if status != 0:
            raise SystemExit(f"protoc failed ({status})")
        return out.read_bytes()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args()
    built = build()
    if args.check:
        if OUTPUT.read_bytes() != built:
            print(f"{OUTPUT} is stale: run python scripts/build_protos.py", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_bytes(built)
    print(f"wrote {OUTPUT} ({len(built)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
