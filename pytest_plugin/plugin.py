"""pytest plugin for zitadel-mock."""
