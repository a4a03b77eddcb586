"""Solo: the contract-first autosave backend of a browser editor."""

API_BASE_PATH = "/api/v1/solo"
