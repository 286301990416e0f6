"""The pytest plugin of zitadel-mock (registered as the ``zitadel_mock`` pytest11 entry point)."""
