"""ZITADEL's OAuth2/OIDC endpoints for service users, on the same falcon app as the API."""
