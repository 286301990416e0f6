# Lets the tests import mfa_check.py from this folder.
