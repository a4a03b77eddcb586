"""Solo: the contract-first autosave backend of a browser editor."""
