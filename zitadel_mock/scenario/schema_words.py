"""What the scenario schema says to people: descriptions, and the names editors offer.

``schema.py`` says the shape of a scenario; these helpers add the words an editor shows on
hover and the values it completes, without changing what is valid.
"""

from __future__ import annotations

from typing import Any

from ..generate.options import generate_schema

__all__ = ["about", "described_generate", "offered"]


def about(schema: Any, description: str) -> dict[str, Any]:
    """``schema`` with a description, which editors show on hover and completion."""
    return {**schema, "description": description}


def offered(schema: dict[str, Any], values: list[str], description: str) -> dict[str, Any]:
    """``schema`` (a pattern that admits more spellings) with ``values`` offered by editors.

    The enum sits in an ``anyOf`` beside an always-true branch: editors complete its values,
    while what is valid stays what the pattern says (the loader's rule: any case, a prefix,
    spaces around), so schema and loader keep agreeing.
    """
    return {**schema, "anyOf": [{"enum": values}, {}], "description": description}


# generate_schema() says the shape; what each of its keys means is said here, with the rest.
_GENERATE = {
    "orgs": "how many organisations to generate",
    "users_per_org": "how many users each generated org has",
    "seed": "the generator's own seed; the scenario's seed when omitted",
    "factors": "the share of users with each factor: 'otp=0.3, u2f=0.2' or {otp: 0.3}",
    "locale": "the locale of generated names, e.g. en_US or de",
    "machine_share": "the share of users that are machine users",
    "not_ready_share": "the share of factors whose set-up is not finished",
    "custom_policy_share": "the share of orgs with a login policy of their own",
}
_MIX = {
    "otp": "the share of users with an authenticator app (otp)",
    "u2f": "the share of users with a security key (u2f)",
    "otp_sms": "the share of users with an SMS code (otp_sms)",
    "otp_email": "the share of users with an email code (otp_email)",
    "none": "the share of users with no second factor",
}


def described_generate() -> dict[str, Any]:
    """The schema of a ``generate:`` block, with a description on each of its keys."""
    schema = generate_schema()
    properties = schema["properties"]
    for key, value in list(properties.items()):
        # A copy: one schema object may serve several keys (the shares).
        value = properties[key] = {"description": _GENERATE.get(key, ""), **value}
        for branch in value.get("anyOf", ()):
            for mix, share in branch.get("properties", {}).items():
                branch["properties"][mix] = {**share, "description": _MIX.get(mix, "")}
    return schema
