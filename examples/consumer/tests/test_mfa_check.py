import urllib.error

import pytest
from mfa_check import ZitadelClient, needs_mfa_setup

from pytest_plugin import ALICE, BOB  # the project's own package, not zitadel-mock's


def test_user_with_an_allowed_factor_needs_nothing(zitadel_mock):
    client = ZitadelClient(zitadel_mock.url, token="shop-token")
    assert client.allowed_second_factors() == ["SECOND_FACTOR_TYPE_OTP", "SECOND_FACTOR_TYPE_U2F"]
    assert not needs_mfa_setup(client, ALICE)


def test_user_whose_factor_the_policy_does_not_allow(zitadel_mock):
    assert needs_mfa_setup(ZitadelClient(token="shop-token"), BOB)  # URL from ZITADEL_MOCK_URL


@pytest.mark.zitadel_scenario("strict.yaml")
def test_strict_policy(zitadel_mock):
    assert needs_mfa_setup(ZitadelClient(zitadel_mock.url, token="any"), ALICE)


def test_policy_change_during_a_test(zitadel_mock):
    zitadel_mock.set_second_factors("Shop", ["otp_sms"])
    assert not needs_mfa_setup(ZitadelClient(zitadel_mock.url, token="shop-token"), BOB)


def test_retries_on_outage(zitadel_mock):
    zitadel_mock.fail(rpc="ListHumanAuthFactors", code="UNAVAILABLE", times=2)
    client = ZitadelClient(zitadel_mock.url, token="shop-token", retries=2)
    assert client.user_factors(ALICE) == ["otp"]
    assert len(zitadel_mock.requests) == 3
    zitadel_mock.assert_called("ListHumanAuthFactors", times=3, user="alice")


def test_bad_token(zitadel_mock):
    with pytest.raises(urllib.error.HTTPError) as raised:
        ZitadelClient(zitadel_mock.url, token="stolen").allowed_second_factors()
    assert raised.value.code == 401
    raised.value.close()  # an HTTPError holds the connection open until closed


def test_user_who_registers_an_allowed_factor(zitadel_mock):
    client = ZitadelClient(zitadel_mock.url, token="shop-token")
    assert needs_mfa_setup(client, BOB)
    zitadel_mock.add_factor("bob", "otp")  # undone before the next test
    assert not needs_mfa_setup(client, BOB)
    zitadel_mock.assert_called("ListHumanAuthFactors", times=2, user="bob")
