# Lets the tests import mfa_check.py and the pytest_plugin package from this folder.
