from __future__ import annotations

import zitadel_mock


def test_all_is_pinned_and_sorted() -> None:
    assert zitadel_mock.__all__ == [
        "AuthFactor",
        "Call",
        "ErrorRule",
        "Factor",
        "FactorState",
        "Journal",
        "LoginPolicy",
        "MockAssertionError",
        "MockServer",
        "Org",
        "Scenario",
        "ScenarioError",
        "ServerError",
        "ServerSideError",
        "State",
        "Token",
        "User",
        "ZitadelMock",
        "ZitadelMockError",
        "__version__",
        "create_app",
        "load_scenario",
        "parse_scenario",
        "scenario_from_data",
    ]
    assert zitadel_mock.__all__ == sorted(zitadel_mock.__all__, key=lambda n: (n[0].islower(), n))


def test_every_name_exists() -> None:
    for name in zitadel_mock.__all__:
        assert hasattr(zitadel_mock, name), name


def test_errors_share_one_base() -> None:
    assert issubclass(zitadel_mock.ScenarioError, zitadel_mock.ZitadelMockError)
    assert issubclass(zitadel_mock.ServerError, zitadel_mock.ZitadelMockError)
