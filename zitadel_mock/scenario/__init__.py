"""The one way in for scenario data: text, key paths, field readers, orgs, rules, the schema."""
