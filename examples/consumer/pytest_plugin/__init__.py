"""The consumer's own test helpers, in a package named like zitadel-mock's plugin folder.

zitadel-mock installs its plugin as ``zitadel_mock_pytest``, so a project may have a
``pytest_plugin`` package of its own: CI runs these tests against the installed wheel to prove
the two do not collide.
"""

from __future__ import annotations

# The users of tests/zitadel.yaml, by id (the id is what the client sends in the path).
ALICE, BOB = "300000000000000002", "300000000000000003"
