"""A scenario's ``generate:`` block built at load time, and the check that Faker is there."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from ..scenario.fields import Invalid
from ..scenario.paths import Path
from .options import FAKER_HINT, parse_options

if TYPE_CHECKING:
    from ..ids import IdGenerator
    from .population import Population

__all__ = ["generate_block", "require_faker"]


def generate_block(
    raw: object,
    *,
    default_seed: int,
    ids: IdGenerator,
    taken: Callable[[str], bool],
    tokens: object = None,
) -> Population:
    """Build a scenario's ``generate:`` block.

    ``taken`` tells the names (org names, usernames, ids) the hand-written part already uses;
    ``tokens`` is the hand-written ``tokens`` list, whose token texts are avoided as well.
    """
    options = parse_options(raw, ("generate",), default_seed=default_seed)
    require_faker(("generate",))
    from .population import build_population, locale_problem

    problem = locale_problem(options.locale)
    if problem is not None:
        raise Invalid(("generate", "locale"), problem)
    written = {
        t["token"]
        for t in (tokens if isinstance(tokens, list) else [])
        if isinstance(t, Mapping) and isinstance(t.get("token"), str)
    }
    return build_population(options, ids, taken=taken, taken_tokens=written.__contains__)


def require_faker(path: Path) -> None:
    """Import the population builder, and with it Faker; without Faker, say how to get it."""
    try:
        from . import population  # noqa: F401
    except ModuleNotFoundError as exc:
        if exc.name != "faker" and not str(exc.name).startswith("faker."):
            raise
        raise Invalid(path, f"generating needs Faker: {FAKER_HINT}") from None
