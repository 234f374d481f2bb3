"""Wire models: what the API accepts and returns (camelCase, as the Status API spells it)."""
