"""A consumer's code: decide whether a user must set up a second factor, using ZITADEL."""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request


class ZitadelClient:
    def __init__(self, base_url: str | None = None, token: str = "", retries: int = 0) -> None:
        self.base_url = base_url or os.environ["ZITADEL_MOCK_URL"]
        self.token = token
        self.retries = retries

    def _post(self, path: str) -> dict:
        for attempt in range(self.retries + 1):
            request = urllib.request.Request(
                self.base_url + path,
                data=b"{}",
                method="POST",
                headers={
                    "Authorization": f"Bearer {self.token}",
                    "Content-Type": "application/json",
                },
            )
            try:
                with urllib.request.urlopen(request, timeout=5) as answer:
                    return json.load(answer)
            except urllib.error.HTTPError as error:
                if error.code != 503 or attempt == self.retries:
                    raise
                error.close()
                time.sleep(0.01)
        raise AssertionError("unreachable")

    def allowed_second_factors(self) -> list[str]:
        return self._post("/management/v1/policies/login/second_factors/_search").get("result", [])

    def user_factors(self, user_id: str) -> list[str]:
        answer = self._post(f"/management/v1/users/{user_id}/auth_factors/_search")
        return [next(k for k in factor if k != "state") for factor in answer.get("result", [])]


def needs_mfa_setup(client: ZitadelClient, user_id: str) -> bool:
    """A user must set up a factor unless one of theirs is allowed by the org's policy."""
    allowed = {
        name.removeprefix("SECOND_FACTOR_TYPE_").lower() for name in client.allowed_second_factors()
    }
    names = {"otp": "otp", "u2f": "u2f", "otpSms": "otp_sms", "otpEmail": "otp_email"}
    return not any(names[factor] in allowed for factor in client.user_factors(user_id))
