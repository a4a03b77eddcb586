"""ASGI middleware: what must happen before connexion parses a body."""
