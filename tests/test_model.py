"""The model's objects: the fast constructors the readers and the population use."""

from __future__ import annotations

from zitadel_mock.model import (
    AuthFactor,
    Factor,
    FactorState,
    User,
    UserType,
    new_auth_factor,
    new_user,
)


def test_the_fast_constructors_make_the_same_objects() -> None:
    user = new_user("1", "a", "2", UserType.MACHINE, ())
    assert user == User("1", "a", "2", UserType.MACHINE, ())
    assert hash(user) == hash(User("1", "a", "2", UserType.MACHINE, ()))
    assert list(user.__dict__) == list(User.__dataclass_fields__)
    factor = new_auth_factor(Factor.U2F, FactorState.NOT_READY, "7", "key")
    assert factor == AuthFactor(Factor.U2F, FactorState.NOT_READY, "7", "key")
    assert list(factor.__dict__) == list(AuthFactor.__dataclass_fields__)
