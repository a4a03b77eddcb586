"""The HTTP edge: the app factory and its connexion/uvicorn glue (routing, the spec,
validators, the HTTP protocol, security handlers), the ASGI middleware, and the one
table that turns every error into the contract's answer."""
