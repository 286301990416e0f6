"""Build a realistic population from options and a seed: orgs, users, factors, members, tokens.

This is the only module that imports Faker. Names are drawn from Faker once, into small pools,
and combined with the mock's own seeded random numbers: a Faker call per user would cost more
than the rest of the population together. Every draw happens in a fixed order from seeded
generators, and nothing depends on hashing or the time, so the same options and the same Faker
version give the same population on every machine.
"""

from __future__ import annotations

import bisect
import itertools
import random
import re
from collections.abc import Callable
from dataclasses import dataclass

import faker
from faker.config import AVAILABLE_LOCALES
from faker.decode import unidecode

from ..ids import IdGenerator, IdStream
from ..model import (
    AUTH_FACTOR_TYPES,
    AuthFactor,
    Factor,
    FactorState,
    LoginPolicy,
    Member,
    Org,
    Token,
    User,
    UserType,
    new_auth_factor,
    new_user,
)
from ..scenario.fields import did_you_mean
from .options import FactorMix, Options

__all__ = ["FAKER_VERSION", "Population", "build_population", "locale_problem"]

FAKER_VERSION: str = faker.VERSION
NAME_POOL = 400  # first names and last names drawn from Faker: 160,000 combinations
TWO_KEYS = 0.2  # of users with a U2F key: a second one
EXTRA_MEMBERS = 20  # one member besides the owner for every this many users

# Login policies orgs choose when they customise theirs, with how often each is chosen.
POLICIES: tuple[tuple[tuple[Factor, ...], int], ...] = (
    ((Factor.OTP, Factor.U2F), 4),  # the instance default, written out
    ((Factor.U2F,), 2),  # hardware keys only
    ((Factor.OTP,), 2),
    ((Factor.OTP, Factor.U2F, Factor.OTP_EMAIL, Factor.OTP_SMS), 2),
    ((Factor.OTP, Factor.OTP_SMS), 1),
    ((), 1),  # no second factor at all
)
MEMBER_ROLES: tuple[frozenset[str], ...] = tuple(
    frozenset(roles)
    for roles in (
        ("ORG_USER_MANAGER",),
        ("ORG_OWNER_VIEWER",),
        ("ORG_SETTINGS_MANAGER",),
        ("ORG_USER_MANAGER", "ORG_SETTINGS_MANAGER"),
        ("PROJECT_OWNER",),
    )
)
OWNER = frozenset({"ORG_OWNER"})
# fmt: off
# What people name their security keys: the model, sometimes with their own name.
KEY_MODELS = (
    "YubiKey 5 NFC", "YubiKey 5C", "YubiKey Bio", "Security Key NFC", "Titan Security Key",
    "Nitrokey 3", "Feitian ePass", "Touch ID", "Windows Hello", "iPhone", "Android phone",
    "iCloud Keychain", "1Password",
)
# What machine users are for; each is named ORG-SLUG-SERVICE.
SERVICES = (
    "ci-deploy", "scim-sync", "backup", "monitoring", "terraform", "billing-export",
    "audit-export", "reporting", "hr-sync", "crm-connector", "support-bot", "api-gateway",
    "mobile-backend", "data-warehouse",
)
# fmt: on
_READY = {f: AuthFactor(f) for f in AUTH_FACTOR_TYPES if f is not Factor.U2F}
_NOT_READY_OTP = AuthFactor(Factor.OTP, FactorState.NOT_READY)
_OTP, _U2F = 1 << Factor.OTP.value, 1 << Factor.U2F.value
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class Population:
    """A generated population, ready to stand next to hand-written orgs."""

    orgs: tuple[Org, ...]
    users: tuple[User, ...]
    tokens: tuple[Token, ...]


def locale_problem(locale: str) -> str | None:
    """Why Faker cannot generate names in ``locale``, or None if it can."""
    if locale in AVAILABLE_LOCALES:
        return None
    return f"{locale!r} is not a locale Faker knows{did_you_mean(locale, AVAILABLE_LOCALES)}"


def _slug(text: str, locale: str) -> str:
    if locale.startswith("de"):
        text = text.translate(_UMLAUTS)  # Müller is mueller in an address, not muller
    return _NOT_SLUG.sub("-", unidecode(text.replace("ß", "ss")).lower()).strip("-")


def _pool(draw: Callable[[], str], size: int, locale: str) -> list[tuple[str, str]]:
    """Up to ``size`` distinct (name, slug) pairs, in the order Faker drew them."""
    seen: dict[str, str] = {}
    for _ in range(size):
        name = draw().strip()
        if name and name not in seen:
            seen[name] = _slug(name, locale) or "user"
    return list(seen.items())


class _FactorDraw:
    """Draw a human user's READY factors so that each factor's share is exactly as asked.

    A user has no factor with the ``none`` share; every other user gets the factors whose
    arcs cover one random point of a circle of circumference 1, on which the factors' arcs
    (each one's share of those users) are laid end to end in a random order. An arc of length
    q covers a random point with probability q, and arcs that add up to 1 or more leave no
    gap, so every such user has at least one factor.

    All of it is worked out once, as a partition of [0, 1): the ``none`` share first, then one
    equal part per order of the arcs, cut where arcs start and end. A draw is then one random
    number and a bisection, and its result a bit mask (bit ``factor.value``).
    """

    def __init__(self, mix: FactorMix) -> None:
        enrolled = 1.0 - mix.none
        arcs = [(1 << f.value, s / enrolled) for f, s in mix.shares if s > 0 and enrolled > 1e-12]
        orders = list(itertools.permutations(arcs)) if arcs else []
        self.bounds: list[float] = [mix.none] if orders else []  # where each part ends
        self.masks: list[int] = [0]
        for n, order in enumerate(orders):
            starts = list(itertools.accumulate((length for _, length in order), initial=0.0))
            cuts = sorted({start % 1.0 for start in starts} | {1.0})
            for low, high in itertools.pairwise([0.0, *[c for c in cuts if c > 0]]):
                middle = (low + high) / 2
                mask = 0
                for (bit, length), start in zip(order, starts, strict=False):
                    if (middle - start) % 1.0 < length:
                        mask |= bit
                self.bounds.append(mix.none + enrolled * (n + high) / len(orders))
                self.masks.append(mask)
        self.masks.append(0)  # past the last bound: only if rounding leaves a sliver
        # For each mask: the READY factors other than U2F, in the order Factor lists them.
        self.plain = [tuple(_READY[f] for f in _READY if mask >> f.value & 1) for mask in range(32)]

    def __call__(self, rng: random.Random) -> int:
        return self.masks[bisect.bisect_right(self.bounds, rng.random())]


class _Builder:
    def __init__(
        self,
        options: Options,
        ids: IdGenerator,
        taken: Callable[[str], bool],
        taken_tokens: Callable[[str], bool],
    ) -> None:
        self.options = options
        # Org and user ids, and U2F ids, come from streams of their own: a change of the factor
        # mix changes no org's or user's id.
        self.entity_id = IdStream(f"zitadel-mock ids {options.seed}", ids)
        self.key_id = IdStream(f"zitadel-mock key ids {options.seed}", ids)
        self.taken = taken
        self.taken_tokens = taken_tokens
        self.rng = random.Random(f"zitadel-mock population {options.seed}")
        self.rand = self.rng.random
        fake = faker.Faker(options.locale, use_weighting=False)
        fake.seed_instance(f"zitadel-mock names {options.seed}")
        self.fake = fake
        self.first = _pool(fake.first_name, NAME_POOL, options.locale)
        self.last = _pool(fake.last_name, NAME_POOL, options.locale)
        self.factors = _FactorDraw(options.mix)
        self.not_ready_share = options.not_ready_share
        self.usernames: set[str] = set()
        self.names: set[str] = set()
        self.slugs: set[str] = set()

    def _username(self, head: str, tail: str = "", sep: str = "") -> str:
        """``head + tail``, or if taken the first free ``head + sep + n + tail``, n = 2, 3..."""
        name, n = head + tail, 1
        while name in self.usernames or self.taken(name):
            n += 1
            name = f"{head}{sep}{n}{tail}"
        self.usernames.add(name)
        return name

    def _name_taken(self, name: str) -> bool:
        return name in self.names or self.taken(name)

    def org_name(self) -> tuple[str, str]:
        """A company name from Faker that no other org has, and its slug."""
        locale = self.options.locale
        for _ in range(10):
            name = self.fake.company().strip() or "Org"
            slug = _slug(name, locale) or "org"
            if slug not in self.slugs and not self._name_taken(name):
                break
        else:  # the locale's companies repeat: number the last one drawn
            n = 2
            while f"{slug}-{n}" in self.slugs or self._name_taken(f"{name} {n}"):
                n += 1
            name, slug = f"{name} {n}", f"{slug}-{n}"
        self.names.add(name)
        self.slugs.add(slug)
        return name, slug

    def u2f(self, first: str, state: FactorState) -> AuthFactor:
        rand = self.rand
        roll = rand()
        model = KEY_MODELS[int(rand() * len(KEY_MODELS))]
        # Most keys keep the model's name, some get their owner's, a few none at all.
        name = "" if roll < 0.05 else model if roll < 0.65 else f"{model} ({first})"
        return new_auth_factor(Factor.U2F, state, self.key_id(), name)

    def humans(self, user_ids: list[str], org_id: str, domain: str) -> list[User]:
        """The human users of an org, with these ids: the loop a population spends its time in.

        Everything it uses is bound to a local name first: over a hundred thousand users,
        attribute lookups cost as much as the rest.
        """
        rand, first, last = self.rng.random, self.first, self.last
        first_count, last_count = len(first), len(last)
        bounds, masks, plain = self.factors.bounds, self.factors.masks, self.factors.plain
        used, taken, u2f = self.usernames, self.taken, self.u2f
        not_ready, human, ready = self.not_ready_share, UserType.HUMAN, FactorState.READY
        tail = f"@{domain}"
        users: list[User] = []
        for user_id in user_ids:
            name, first_slug = first[int(rand() * first_count)]
            head = f"{first_slug}.{last[int(rand() * last_count)][1]}"
            username = head + tail
            if username in used or taken(username):
                username = self._username(head, tail)
            else:
                used.add(username)
            mask = masks[bisect.bisect_right(bounds, rand())]
            factors = plain[mask]  # shared by every user with the same factors
            if mask & _U2F:
                keys = [u2f(name, ready)]
                if rand() < TWO_KEYS:
                    keys.append(u2f(name, ready))
                # The keys after the authenticator app, as Factor orders them.
                cut = 1 if mask & _OTP else 0
                factors = (*factors[:cut], *keys, *factors[cut:])
            if rand() < not_ready:
                # A registration started and never finished: an authenticator app if the user
                # has none, else one more security key.
                if mask & _OTP:
                    factors = (*factors, u2f(name, FactorState.NOT_READY))
                else:
                    factors = (*factors, _NOT_READY_OTP)
            users.append(new_user(user_id, username, org_id, human, factors))
        return users

    def org(self, custom_policy: bool) -> tuple[Org, list[User], Token]:
        rng, size = self.rng, self.options.users_per_org
        name, slug = self.org_name()
        org_id, *user_ids = self.entity_id.take(1 + size)
        policy = None
        if custom_policy:
            choices, weights = zip(*POLICIES, strict=True)
            policy = LoginPolicy(rng.choices(choices, weights)[0])
        count = min(int(size * self.options.machine_share + 0.5), size - 1)
        machine_at = set(rng.sample(range(1, size), count))
        machines = []
        for j in sorted(machine_at):
            service = SERVICES[int(rng.random() * len(SERVICES))]
            username = self._username(f"{slug}-{service}", sep="-")
            machines.append(User(user_ids[j], username, org_id, UserType.MACHINE))
        # A reserved domain: no mail can reach a real company.
        people = [user_id for j, user_id in enumerate(user_ids) if j not in machine_at]
        humans = iter(self.humans(people, org_id, f"{slug}.example"))
        machine_users = iter(machines)
        users = [next(machine_users if j in machine_at else humans) for j in range(size)]
        owner = users[0]
        extra = sorted(rng.sample(range(1, size), min(size // EXTRA_MEMBERS, size - 1)))
        members = [Member(owner.id, OWNER)]
        members += [Member(users[j].id, rng.choice(MEMBER_ROLES)) for j in extra]
        token, n = f"{slug}-admin-token", 1
        while self.taken_tokens(token):
            n += 1
            token = f"{slug}-admin-token-{n}"
        return Org(org_id, name, policy, tuple(members)), users, Token(token, owner.id)


def build_population(
    options: Options,
    ids: IdGenerator,
    *,
    taken: Callable[[str], bool] = lambda name: False,
    taken_tokens: Callable[[str], bool] = lambda token: False,
) -> Population:
    """Build the population ``options`` describe; ids come from ``ids``.

    ``taken`` and ``taken_tokens`` tell names and tokens already in use (by hand-written
    orgs and users): the population avoids them.
    """
    builder = _Builder(options, ids, taken, taken_tokens)
    count = options.orgs
    custom = set(builder.rng.sample(range(count), int(count * options.custom_policy_share + 0.5)))
    orgs: list[Org] = []
    users: list[User] = []
    tokens: list[Token] = []
    for i in range(count):
        org, org_users, token = builder.org(i in custom)
        orgs.append(org)
        users.extend(org_users)
        tokens.append(token)
    return Population(tuple(orgs), tuple(users), tuple(tokens))
