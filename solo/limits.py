"""Every number of the product contract, defined once.

The middleware, handlers, spec checks and tests read these names; nothing
else in the code base may spell one of these numbers again. The spec states each
operation's body limit (`x-body-limit`, for documentation and for the middleware) and
rate-limit group (`x-rate-limit-group`); tests/test_limits.py keeps the spec's numbers
equal to these.
"""

KIB = 1024
MIB = 1024 * KIB

DIFF_BODY_LIMIT = 512 * KIB
"""Largest PATCH diff body, counted after any gzip decompression."""

STREAM_BODY_LIMIT = 2 * MIB
"""Largest save-stream (and session create) body; also the largest state."""

BEACON_BODY_LIMIT = 64 * KIB
"""Largest beacon body."""

EXPORT_RESPONSE_LIMIT = 10 * MIB
"""Largest export document the server will produce."""

STATE_SIZE_LIMIT = STREAM_BODY_LIMIT
"""A state that a diff would grow past this is refused with state_too_large."""

CAS_RETRIES_FOR_ANY_MATCH = 5
"""How often a write with `If-Match: *` re-reads and retries a lost race."""

TOKEN_TTL_SECONDS = 3600
"""Default lifetime of a token minted by `solo token`."""

SIGNED_URL_TTL_SECONDS = 900
"""Default lifetime of a snapshot download URL (SOLO_SIGNED_URL_TTL)."""

IDEMPOTENCY_TTL_SECONDS = 60
"""How long an Idempotency-Key and its first response are kept."""

RATE_LIMIT_WRITE = "120/minute"
RATE_LIMIT_BEACON = "60/minute"
RATE_LIMIT_SNAPSHOT = "20/minute"
RATE_LIMIT_READ = "600/minute"
"""Default per-user budgets by endpoint group (SOLO_RATE_LIMIT_*)."""

RATE_LIMIT_REDIS_TIMEOUT_SECONDS = 0.25
"""How long a rate-limit call waits for Redis before serving without it."""

RATE_LIMIT_REDIS_RETRY_SECONDS = 5
"""After Redis failed, how long to count in process memory before trying it again."""

BEACON_EVENTS_KEPT = 100
"""Telemetry retention: the newest beacon events kept per session (SOLO_BEACON_EVENTS_KEPT)."""

REQUEST_ID_MAX_LENGTH = 200
"""Longest incoming X-Request-ID that is echoed rather than replaced."""
