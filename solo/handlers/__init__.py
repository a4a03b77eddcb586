"""connexion handlers, one module per spec tag, named after their operationIds."""
