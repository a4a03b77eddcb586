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

RESTORE_BODY_LIMIT = 1 * KIB
"""Largest restore body (it names one rev)."""

EXPORT_RESPONSE_LIMIT = 10 * MIB
"""Largest export document the server will produce."""

BODY_DEADLINE_SECONDS = 60
"""Default time a request body has to arrive whole after its headers, else 408
(SOLO_BODY_DEADLINE_SECONDS): a stalled upload cannot hold a connection and its buffers
indefinitely, while 2 MiB still arrive over a 40 KB/s link."""

GZIP_MEMBERS_LIMIT = 1024
"""Most gzip members one body may hold (`cat a.gz b.gz` is one body): each costs a
decompressor, so a body of empty members is refused before it costs milliseconds."""

STATE_SIZE_LIMIT = STREAM_BODY_LIMIT
"""A state that a diff would grow past this is refused with state_too_large."""

JSON_DEPTH_LIMIT = 200
"""Deepest nesting of any JSON body, and of any state (a diff may not nest it deeper)."""

PATCH_WORK_LIMIT = 4 * STATE_SIZE_LIMIT
"""Bytes of existing state one patch may measure or clone (what its removes drop and its
copies duplicate): bounds the work of any diff, however its ops are chosen."""

SUBJECT_MAX_BYTES = 255
"""Longest user id (a token's `sub`) in UTF-8 bytes, also once encoded as a storage key
segment: it is a database value and a file or object name."""

VERIFIED_TOKENS_KEPT = 10000
"""Bearer tokens each process remembers as verified (until they expire)."""

PARAMETER_VERDICTS_KEPT = 4096
"""Verdicts on parameter values each process remembers (all are forgotten when it is full)."""

PARAMETER_VERDICT_MAX_CHARS = 64
"""Longest parameter value whose verdict is remembered (a session id is 36)."""

MEDIA_TYPES_KEPT = 16
"""Request media types (with charset) each operation remembers the checks of; past it all
are forgotten at once, so made-up types can neither grow the memory nor keep real ones out."""

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

RATE_LIMIT_WINDOWS_KEPT = 100_000
"""In-process counters past which ended windows are swept out of memory."""

BEACON_EVENTS_KEPT = 100
"""Telemetry retention: the newest beacon events kept per session (SOLO_BEACON_EVENTS_KEPT)."""

DATABASE_WAIT_SECONDS = 5
"""Default longest a request waits for the database (SOLO_DATABASE_WAIT_SECONDS): a
database thread, a pooled connection, the SQLite writer lock or busy database, a locked row
(PostgreSQL `lock_timeout`), a new connection. Past it the answer is 503 unavailable."""

DATABASE_STATEMENT_SECONDS = 15
"""Longest one PostgreSQL statement may run, its lock waits included (`statement_timeout`)."""

DATABASE_IDLE_PING_SECONDS = 30
"""PostgreSQL: a pooled connection idle longer than this is pinged (a round trip) before
it is used again; one used more recently is pinged only when its socket says the server
sent something or closed it (solo.db.liveness)."""

THREADS_PER_SESSION = 2
"""Database threads that requests about one session may hold at once in a process (the
rest wait on the event loop): a session whose row is locked cannot take every thread."""

STORAGE_THREADS = 4
"""Default threads per process that talk to the snapshot store (SOLO_STORAGE_THREADS)."""

STORAGE_DEADLINE_SECONDS = 5
"""Default longest a request waits for one call to the snapshot store, queueing included
(SOLO_STORAGE_DEADLINE_SECONDS); past it the answer is 503 unavailable."""

STORAGE_CONNECT_TIMEOUT_SECONDS = 2
STORAGE_READ_TIMEOUT_SECONDS = 3
STORAGE_ATTEMPTS = 2
"""S3: the socket timeouts and the attempts (the first included) of one call."""

SNAPSHOT_SETTLE_SECONDS = 120
"""Longer than any snapshot write can last (its thread included, past the deadline): a
deleted session's objects are swept again this long after the delete, and a claim this
old belongs to a request that died."""

SNAPSHOT_CLAIM_POLL_SECONDS = 0.05
"""How often a request asks again for a rev whose snapshot another process is writing (one
written by this process is waited for, not polled: solo.runtime.snapshot_writes)."""

SWEEP_SECONDS = 30
"""About how often each process sweeps the store (pending deletions, stale claims,
leftover temporary files)."""

SWEEP_RETRY_SECONDS = 60
"""A deletion the store did not take is tried again this much later."""

RETRY_AFTER_SECONDS = 5
"""The `Retry-After` of a 503: about how long a dependency is given to come back."""

READINESS_DEADLINE_SECONDS = 2
"""Longest each readiness check (database, store) may take before it counts as down."""

READINESS_CACHE_SECONDS = 1
"""A readiness answer is reused this long: any number of probes cost one check."""

STATE_CACHE_MB = 256
"""Default budget of each process's state cache (SOLO_STATE_CACHE_MB), in megabytes of
canonical JSON held (the Python objects of a state take about five times its JSON)."""

RECENT_CHANGES_HELD = 64
RECENT_CHANGES_HELD_BYTES = 64 * KIB
"""Each cached session also holds its newest changes, at most this many and this many bytes
of ops: a diff rebased over them (the autosave client's, a few revs behind) needs no read
of the log."""

GROUP_COMMIT_MAX_WRITES = 64
"""Most writes one SQLite transaction (one sync) takes in: past it, a batch stops taking
new writes and commits once those it took are done, so a stream of writers cannot keep a
batch (and the answers of its writes) waiting."""

DATABASE_THREADS = 16
"""Default threads per process that talk to the database (SOLO_DATABASE_THREADS), and
so the size of its connection pool."""

ONE_STATEMENT_SWAPS = 2
"""How often a write tries its one-statement swap (PostgreSQL) before the locked path: a
swap lost to another process's write catches the cache up and tries once more."""

CHANGES_KEPT = 1000
"""Default number of newest changes each session keeps (SOLO_CHANGES_KEPT), unless they
pass CHANGES_KEPT_MB: the change feed, restore and idempotency keys reach that far back."""

CHANGES_KEPT_MB = 32
"""Default bound, in MiB, of each session's kept log, its changes and the checkpoints they
start from (SOLO_CHANGES_KEPT_MB): a thousand diffs of half a megabyte each would
otherwise keep half a gigabyte for a state of a few bytes."""

CHANGES_KEPT_MB_MIN = 3
"""The least SOLO_CHANGES_KEPT_MB may be: room for a whole state's checkpoint and a diff."""

CHANGES_SLICE_BYTES = 1 * MIB
"""The change feed reads a page's content in slices of about this many bytes, so that a
request holds little more than the page it sends."""

CHANGES_PAGE_DEFAULT = 100
CHANGES_PAGE_MAX = 1000
"""Changes in one page of the change feed: by default, and at most (`limit`)."""

CHANGES_PAGE_BYTES = EXPORT_RESPONSE_LIMIT
"""A change-feed page stops before passing this many bytes (it always holds one change):
a page of whole-state changes could otherwise weigh gigabytes."""

EVENTS_HEARTBEAT_SECONDS = 15
"""An event stream with nothing to say sends a comment this often."""

EVENTS_POLL_SECONDS = 0.25
"""On SQLite, how often each process polls the heads of the sessions it streams."""

EVENTS_WATCH_SECONDS = 60
EVENTS_WATCH_RENEW_SECONDS = 20
"""A streamed session is marked as watched this long, renewed this often while streamed:
writers announce revisions of watched sessions only (PostgreSQL NOTIFY is not free)."""

EVENTS_RETRY_MILLISECONDS = 1000
"""The `retry:` an event stream opens with: an EventSource whose stream ends (a server
shutting down, a network drop) reconnects after this long, in every browser (their own
defaults range from 3 to 5 seconds)."""

EVENTS_LISTEN_KEEPALIVE_SECONDS = 10
"""PostgreSQL: the LISTEN connection's TCP keepalive idle time (then probes every third of
it, three times): a database lost without a word (a failover, a partition) is noticed, and
listened to again, within about twice this."""

EVENT_STREAMS_PER_USER = 16
EVENT_STREAMS_PER_USER_MAX = 64
"""Default event streams one user may hold open at once over every server process
(SOLO_EVENT_STREAMS_PER_USER), and the most that setting may allow."""

EVENT_STREAMS_PER_SESSION = 8
"""Default event streams one session may have open at once (SOLO_EVENT_STREAMS_PER_SESSION)."""

EVENT_STREAM_LEASE_SECONDS = 2 * EVENTS_HEARTBEAT_SECONDS
"""With Redis, each open stream holds a lease on its place, renewed every heartbeat: the
places of a process that died without closing its streams come free within this long.
Also the `Retry-After` of `429 too_many_streams`."""

DESCRIPTORS_RESERVED = 128
"""File descriptors of a server process that event streams never take: kept for ordinary
requests' connections, the database pool and listener, the snapshot store, logs. A process
refuses a stream (503) once its open streams would leave fewer free."""

EVENT_STREAMS_PER_PROCESS_MAX = 10_000
"""Most event streams one process holds whatever its descriptors allow (an idle stream
costs about 50 KiB of memory: bench/RESULTS.md)."""

CHECKPOINT_MAX_CHANGES = 500
"""A checkpoint of the whole state is written once this many changes were logged since
the last one, or once the logged ops outgrow the state, whichever comes first."""

GC_THRESHOLDS = (50_000, 50, 100)
"""The cycle collector's thresholds in a server process (Python's default: 700, 10, 10)."""

REQUEST_HEAD_LIMIT = 32 * KIB
"""Largest request line and headers together, in bytes (past it: 400, connection closed)."""

REQUEST_HEAD_SECONDS = 10
"""Default (SOLO_REQUEST_HEAD_SECONDS): a request's line and headers must arrive within
this long of their first byte (of the connection, for the first request), or the connection
is closed."""

KEEP_ALIVE_SECONDS = 5
"""An idle kept-alive connection is closed after this long (uvicorn's own default, set
explicitly; behind a load balancer, keep it above the balancer's idle timeout)."""

GRACEFUL_SHUTDOWN_SECONDS = 20
"""On SIGTERM, requests in flight get this long to finish before the process exits."""

CORS_PREFLIGHT_MAX_AGE_SECONDS = 7200
"""How long a browser may keep a preflight's answer, per URL (Chromium keeps it at most 2
hours, Firefox 24; Chromium never reuses one for a request with If-Match or If-None-Match)."""

METRICS_SYNC_SECONDS = 5
"""How often each process adds its state cache's lookups to the metrics."""

METRICS_CACHE_SECONDS = 1
"""A process computes what `/metrics` answers at most this often (reading every worker's
files costs milliseconds of CPU); scrapes meanwhile share that answer."""

REQUEST_ID_MAX_LENGTH = 200
"""Longest incoming X-Request-ID that is echoed rather than replaced."""

IDEMPOTENCY_DELETE_TTL_SECONDS = 24 * 3600
"""How long a delete's Idempotency-Key and its answer are kept (a write's lives with the
change it made, a snapshot's IDEMPOTENCY_TTL_SECONDS)."""

IDEMPOTENCY_RETRY_AFTER_SECONDS = 1
"""The `Retry-After` of `409 idempotency_in_progress`: the first request is about done."""

REBASE_PARSED_KEPT = 1024
REBASE_PARSED_MAX_BYTES = 4 * KIB
"""Each process keeps the parsed ops of this many recent changes of at most this size,
which every rebase over them would parse again (about 40 MiB at most)."""

REBASE_MAX_CHANGES = 1000
REBASE_MAX_BYTES = 1 * MIB
"""A diff is rebased over at most this many changes since its base, holding at most this
many bytes of ops; past either, `409 rebase_conflict` (`too_far`): rebase on the client."""

REBASE_WORK_LIMIT = 200_000
"""Most (diff op, committed op) pairs one rebase may weigh against each other: a few
hundred milliseconds at worst; past it, `409 rebase_conflict` (`too_far`)."""

REBASE_ANSWER_BYTES = 256 * KIB
"""A rebased write's answer carries the changes since its base when they fit in this
many bytes; else the client reads the change feed."""

EVENT_OPS_MAX_BYTES = 4 * KIB
"""A revision event carries the change's ops when they take at most this many bytes (an
announcement between processes must fit PostgreSQL's 8000-byte NOTIFY payload)."""

SNAPSHOTS_KEEP_LAST = 10
SNAPSHOTS_KEEP_HOURLY = 24
SNAPSHOTS_KEEP_DAILY = 30
"""Default retention of each session's snapshots (SOLO_SNAPSHOTS_KEEP_*), restic's and
borg's `--keep-last/-hourly/-daily` shape: the newest ten (what a user snapshotted in the
last minutes, whatever the hour), plus the newest of each hour of the last day (undo a bad
afternoon), plus the newest of each day of the last month (a month of history, the span
most editors keep). At most 64 unpinned snapshots per session: 128 MiB at the 2 MiB state
limit, a few MiB for an ordinary document."""

RETENTION_SESSIONS_PER_PASS = 50
RETENTION_SNAPSHOTS_PER_PASS = 100
"""One retention pass of one process looks at most at this many sessions due for it, and
collects at most this many snapshots (their rows, and their objects' recorded deletions):
a backlog is worked off over several passes, never in one long transaction."""

RETENTION_RETRY_SECONDS = 300
"""A session whose retention a process took is looked at again this much later if that
process died before it was done."""

SNAPSHOT_NAME_MAX_LENGTH = 100
SNAPSHOT_LABEL_BODY_LIMIT = 1 * KIB
"""A snapshot's name, in characters, and the largest body that names or pins one (a
hundred characters written as JSON `\\u` escapes fit)."""

QUOTA_SESSIONS = 10_000
QUOTA_MB = 4096
"""Default quotas of one user (SOLO_QUOTA_SESSIONS, SOLO_QUOTA_MB): ten thousand sessions
is a new session every working hour for five years; 4 GiB holds thirty sessions at the
2 MiB state limit with every snapshot the default retention keeps (64 of 2 MiB each),
or thousands of ordinary documents (tens of KiB) with theirs."""

JWKS_FETCH_DEADLINE_SECONDS = 3
"""Longest a JWKS fetch may take (connect, answer, body); the requests waiting on it then
answer 503 with `checks: {"identity_provider": "unavailable"}`."""

JWKS_REFETCH_SECONDS = 5
"""Default (SOLO_JWT_JWKS_REFETCH_SECONDS): a token whose `kid` no fetched key has makes
the server fetch the JWKS again, no sooner than this many seconds after the last fetch began
(the token waits for that one): random kids cannot turn into a flood at the provider, and a
key published just after a fetch is still picked up."""

JWKS_MAX_BYTES = 1 * MIB
"""Largest JWKS document read (real ones are a few KiB)."""
