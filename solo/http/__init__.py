"""The HTTP vocabulary that handlers and the edge share: connexion's request scope (read
in one module, scope.py), request ids, the HTTP layer's refusals, request bodies, a
write's precondition and the headers of its answer, the wire form of domain objects, and
absolute URLs. Nothing here knows the app or its middleware (solo.web)."""
