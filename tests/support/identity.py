"""A real identity provider's JWKS endpoint on loopback, for tests: it signs tokens with
its keys, rotates them, goes down and comes back on the same port, and hangs."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import threading

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from tests.support.server import free_port


class IdentityProvider:
    ISSUER = "https://вхід.example"

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/.well-known/jwks.json"
        self._private: dict[str, tuple[str, object]] = {}
        self._published: list[str] = []
        self.fetches = 0
        self._hanging = threading.Event()
        self._released = threading.Event()
        self._server: http.server.ThreadingHTTPServer | None = None
        self.up()

    def add_key(self, kid: str, algorithm: str = "RS256") -> None:
        """A new key, published from now on."""
        if algorithm == "RS256":
            key: object = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        else:
            key = ec.generate_private_key(ec.SECP256R1())
        self._private[kid] = (algorithm, key)
        self._published.append(kid)

    def drop_key(self, kid: str) -> None:
        """No longer published (its tokens can still be signed, for the test's sake)."""
        self._published.remove(kid)

    def token(
        self,
        kid: str,
        user: str = "олена",
        ttl: int = 600,
        named: str | None = None,
        **claims: object,
    ) -> str:
        """A token signed with key `kid`, naming it (or the key `named`) in its header."""
        algorithm, key = self._private[kid]
        now = dt.datetime.now(dt.UTC)
        body = {"sub": user, "iat": now, "exp": now + dt.timedelta(seconds=ttl), **claims}
        return jwt.encode(body, key, algorithm=algorithm, headers={"kid": named or kid})

    def document(self) -> dict:
        keys = []
        for kid in self._published:
            algorithm, key = self._private[kid]
            public = key.public_key()
            codec = RSAAlgorithm if algorithm == "RS256" else ECAlgorithm
            jwk = codec.to_jwk(public, as_dict=True)
            keys.append({**jwk, "kid": kid, "alg": algorithm, "use": "sig"})
        # A key of another use, which a server must leave out.
        keys.append({"kty": "oct", "kid": "шифрування", "use": "enc", "k": "c2VjcmV0"})
        return {"keys": keys}

    def up(self) -> None:
        provider = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                provider.fetches += 1
                if provider._hanging.is_set():
                    provider._released.wait(30)
                    return
                body = json.dumps(provider.document()).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def down(self) -> None:
        """Nothing listens on the port any more: connections are refused."""
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()
        self._server = None

    def hang(self) -> None:
        """Accept connections, answer nothing."""
        self._hanging.set()

    def stop(self) -> None:
        self._released.set()
        if self._server is not None:
            self.down()
