"""What the test handle (``ZitadelMock``) can do for service users: mint their tokens."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from .oauth_messages import API_AUDIENCE_SCOPE

if TYPE_CHECKING:
    from .server import MockServer

__all__ = ["DEFAULT_SCOPES", "SignIn"]

# What zitadel-client asks for by default: an ID token, and the audience the API checks.
DEFAULT_SCOPES = ("openid", API_AUDIENCE_SCOPE)


class SignIn:
    """``ZitadelMock.token_for``, kept apart from the handle's journal and state changes."""

    server: MockServer

    def token_for(
        self, user: str, *, scopes: Iterable[str] = DEFAULT_SCOPES, lifetime: float = 12 * 3600
    ) -> str:
        """Mint an access token for a machine user, as its sign-in at the token endpoint would.

        It acts on the API as that user (its org, its memberships) until ``lifetime`` seconds
        pass on the mock's clock (0: already expired); without the scope
        ``urn:zitadel:iam:org:project:id:zitadel:aud`` the API refuses it, as ZITADEL does.
        The user needs no credentials in the scenario. A reset forgets the token.
        """
        from .oauth import mint_for

        chosen = (scopes,) if isinstance(scopes, str) else tuple(scopes)
        return mint_for(self.server.state, user, chosen, lifetime)
