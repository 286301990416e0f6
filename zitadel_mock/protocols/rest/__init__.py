"""ZITADEL's REST gateway: the falcon apps, its JSON, its request ids, faults on the connection."""
