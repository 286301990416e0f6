"""``zitadel-mock generate``: write a generated population as a scenario file (YAML or JSON).

Options are read with the same readers as a scenario's ``generate:`` block, so a mistake gets
the same message; argparse puts it on one line and exits with status 2.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any, TextIO

from ..errors import ZitadelMockError
from ..generate.block import require_faker
from ..generate.options import (
    DEFAULT_FACTORS,
    MAX_USERS,
    Options,
    check_size,
    parse_factor_mix,
    parse_locale,
    parse_share,
)
from ..generate.writer import render
from ..scenario.fields import Invalid, expect_int
from ..scenario.read import MAX_FILE_SIZE

__all__ = ["add_parser", "run"]

FORMATS = ("yaml", "json")
_EPILOG = f"""\
The factor mix gives, for each factor, the share of human users that has it READY (a user may
have several), and with 'none' the share that has none; without 'none', the users the factor
shares leave out have none. Default: {DEFAULT_FACTORS}

Each org gets a company name and a *.example domain; human usernames are email addresses,
machine users are named after a service. The first user of each org is a human ORG_OWNER with
the token ORG-SLUG-admin-token; about one user in 20 is a member with another org role. A
share of human users also has a registration they never finished (a NOT_READY factor), and a
share of orgs has a custom login policy.

examples:
  zitadel-mock generate --orgs 3 --users-per-org 20 --seed 7 -o scenario.yaml
  zitadel-mock generate --orgs 1000 --users-per-org 100 --seed 1 -o big.json
  zitadel-mock generate --orgs 2 --users-per-org 50 --locale de_DE --factors "otp=0.5,u2f=0.5"
"""


def _checked(read: Callable[[str], Any]) -> Callable[[str], Any]:
    """An argparse type from a reader that raises Invalid: the same message as in a scenario."""

    def convert(text: str) -> Any:
        try:
            return read(text)
        except Invalid as exc:
            raise argparse.ArgumentTypeError(exc.message) from None

    return convert


def _whole(text: str, minimum: int, maximum: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise Invalid((), f"{text!r} is not a whole number") from None
    return expect_int(value, (), minimum=minimum, maximum=maximum)


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise Invalid((), f"{text!r} is not a share from 0 to 1") from None
    return parse_share(value, ())


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``generate`` subcommand to the command line's subparsers."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "generate",
        help="write a generated scenario: many orgs and users, realistic and reproducible",
        description="Write a scenario with N orgs of M users each, with names from Faker and "
        "ZITADEL-style ids, to stdout or a file. The same options give the same file, byte "
        "for byte (for the same version of Faker).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=_EPILOG,
    )
    count = _checked(lambda text: _whole(text, 1, MAX_USERS))
    seed = _checked(lambda text: _whole(text, -(2**63), 2**63 - 1))
    add = parser.add_argument
    add("--orgs", type=count, required=True, metavar="N", help="number of orgs")
    add("--users-per-org", type=count, required=True, metavar="M", help="users in each org")
    add("--seed", type=seed, default=0, metavar="S", help="the seed (default: 0)")
    add(
        "--factors",
        type=_checked(lambda text: parse_factor_mix(text, ())),
        default=None,
        metavar="MIX",
        help=f'factor shares of human users (default: "{DEFAULT_FACTORS}")',
    )
    add(
        "--locale",
        type=_checked(lambda text: parse_locale(text, ())),
        default="en_US",
        help="Faker locale of the names (default: en_US)",
    )
    for flag, default, what in (
        ("--machine-share", 0.1, "share of each org's users that are machine users"),
        ("--not-ready-share", 0.05, "share of human users with a NOT_READY factor"),
        ("--custom-policy-share", 0.3, "share of orgs with a custom login policy"),
    ):
        add(
            flag,
            type=_checked(_share),
            default=default,
            metavar="SHARE",
            help=f"{what} (default: {default})",
        )
    add(
        "--format", choices=FORMATS, help="yaml or json (default: json for a .json file, else yaml)"
    )
    add("-o", "--output", metavar="PATH", help="write to this file (default: stdout)")
    parser.set_defaults(run=run, generate_parser=parser)
    return parser


def run(args: argparse.Namespace, out: TextIO) -> int:
    """Generate the scenario and write it; with ``-o``, say on ``out`` what was written."""
    parser: argparse.ArgumentParser = args.generate_parser
    path: str | None = args.output
    fmt = args.format or ("json" if path and path.lower().endswith(".json") else "yaml")
    if fmt == "yaml" and path and path.lower().endswith(".json"):
        parser.error(f"argument --format: {path} ends in .json, so it would be read as JSON")
    try:
        check_size(args.orgs, args.users_per_org, ())
        require_faker(())
    except Invalid as exc:
        parser.error(exc.message)
    from ..generate.population import locale_problem

    problem = locale_problem(args.locale)
    if problem is not None:
        parser.error(f"argument --locale: {problem}")
    options = Options(
        orgs=args.orgs,
        users_per_org=args.users_per_org,
        seed=args.seed,
        factors=args.factors,
        locale=args.locale,
        machine_share=args.machine_share,
        not_ready_share=args.not_ready_share,
        custom_policy_share=args.custom_policy_share,
    )
    text = render(options, fmt)
    size = len(text.encode())
    if size > MAX_FILE_SIZE:
        raise ZitadelMockError(
            f"the scenario would take {size >> 20} MiB, more than the {MAX_FILE_SIZE >> 20} MiB "
            "a scenario file may have: generate fewer users, or use a generate: block"
        )
    if path is None:
        out.write(text)
        return 0
    try:
        # newline="\n": the same bytes on every platform
        with open(path, "w", encoding="utf-8", newline="\n") as file:
            file.write(text)
    except OSError as exc:
        raise ZitadelMockError(f"cannot write {path}: {exc.strerror or exc}") from None
    users = options.orgs * options.users_per_org
    print(f"wrote {path}: {options.orgs} orgs, {users} users ({fmt})", file=out)
    return 0
