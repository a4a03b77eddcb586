// The whole autosave flow through openapi-fetch, typed by the openapi-typescript output of
// the served spec (./schema.d.ts, generated at test time). tests/clients/test_typescript_client.py
// compiles it with `tsc --strict` and runs it in Node; it exits non-zero on the first surprise.
import createClient from "openapi-fetch";
import type { components, paths } from "./schema.js";

declare const process: { env: Record<string, string | undefined>; exitCode: number };

type Schemas = components["schemas"];

const api = process.env.SOLO_API_URL ?? "";
const client = createClient<paths>({
  baseUrl: api,
  headers: { Authorization: `Bearer ${process.env.SOLO_TOKEN}` },
});

function same(actual: unknown, expected: unknown, what: string): void {
  const canonical = (value: unknown): string =>
    JSON.stringify(value, (_key, inner) =>
      inner && typeof inner === "object" && !Array.isArray(inner)
        ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : 1)))
        : inner,
    );
  if (canonical(actual) !== canonical(expected)) {
    throw new Error(`${what}: got ${canonical(actual)}, expected ${canonical(expected)}`);
  }
  console.log(`ok ${what}`);
}

async function main(): Promise<void> {
  const state: Schemas["State"] = { назва: "Чернетка", блоки: ["Перший абзац"] };
  const created = await client.POST("/sessions/", { body: { state } });
  if (!created.data) throw new Error(`create: ${created.response.status}`);
  const session: Schemas["Session"] = created.data;
  const path = { session_id: session.id };
  same([created.response.status, session.rev, session.state, session.last_seen_at], [201, 0, state, null], "create");

  const read = await client.GET("/sessions/{session_id}/", { params: { path } });
  const etag = read.response.headers.get("ETag") ?? "";
  same([read.response.status, etag, read.data?.state], [200, '"0"', state], "read with ETag");

  const op: Schemas["PatchOperation"] = { op: "add", path: "/назва", value: "Нова назва" };
  const diffed = await client.PATCH("/sessions/{session_id}/diff/", {
    params: { path, header: { "If-Match": etag } },
    body: { ops: [op] },
  });
  same([diffed.data?.rev, diffed.response.headers.get("ETag")], [1, '"1"'], "diff with If-Match");

  const stale = await client.PATCH("/sessions/{session_id}/diff/", {
    params: { path, header: { "If-Match": etag } },
    body: { ops: [op] },
  });
  if (stale.error?.error !== "precondition_failed") throw new Error(`stale diff: ${stale.response.status}`);
  // Narrowed by the `error` code: `reason` is typed, so this line compiles only with a typed 412.
  const reason: "missing" | "unparsable" | "mismatch" = stale.error.reason;
  same(
    [stale.response.status, reason, stale.response.headers.get("ETag"), stale.error.request_id],
    [412, "mismatch", '"1"', stale.response.headers.get("X-Request-ID")],
    "stale diff is the typed 412",
  );

  const whole: Schemas["State"] = { назва: "Збережено цілком", блоки: [] };
  const saved = await client.POST("/sessions/{session_id}/save-stream/", {
    params: { path, header: { "If-Match": '"1"' } },
    body: whole,
  });
  same(saved.data?.rev, 2, "save-stream");

  const beacon = await fetch(session.beacon_url, {
    method: "POST",
    headers: { "Content-Type": "text/plain;charset=UTF-8" },
    body: JSON.stringify({ подія: "pagehide" }),
  });
  const afterBeacon = await client.GET("/sessions/{session_id}/", { params: { path } });
  same(
    [beacon.status, afterBeacon.data?.rev, afterBeacon.data?.last_seen_at !== null],
    [204, 2, true],
    "beacon at beacon_url changes nothing but last_seen_at",
  );

  const snapshot = await client.POST("/sessions/{session_id}/snapshot/", { params: { path } });
  if (!snapshot.data) throw new Error(`snapshot: ${snapshot.response.status}`);
  const document: Schemas["SnapshotDocument"] = await (await fetch(snapshot.data.url)).json();
  same(
    [snapshot.response.status, snapshot.data.rev, document.rev, document.state],
    [201, 2, 2, whole],
    "snapshot and download",
  );
  const expiresIn = Date.parse(snapshot.data.expires_at) - Date.now();
  same(expiresIn > 0, true, "snapshot link expires later");

  const latest = await client.GET("/sessions/{session_id}/snapshot/latest/", { params: { path } });
  const byRev = await client.GET("/sessions/{session_id}/snapshots/{rev}/", {
    params: { path: { ...path, rev: 2 } },
  });
  const listed = await client.GET("/sessions/{session_id}/snapshots/", { params: { path } });
  same(
    [latest.data?.rev, byRev.data?.rev, listed.data?.items.map((item) => item.rev)],
    [2, 2, [2]],
    "latest, by rev, list",
  );

  const sessions = await client.GET("/sessions/", { params: { query: { limit: 10 } } });
  same(sessions.data?.items.map((item) => item.id), [session.id], "list sessions");

  const exported = await client.GET("/sessions/{session_id}/export/", { params: { path } });
  same(
    [exported.data?.state, exported.data?.snapshots.length, exported.response.headers.get("Content-Disposition")],
    [whole, 1, `attachment; filename="solo-session-${session.id}.json"`],
    "export",
  );

  const feed = await client.GET("/sessions/{session_id}/changes/", {
    params: { path, query: { since: 0 } },
  });
  const changes: Schemas["Change"][] = feed.data?.changes ?? [];
  same(
    [feed.data?.rev, changes.map((change) => change.rev), changes[0]?.ops, changes[1]?.ops],
    [2, [1, 2], [op], [{ op: "replace", path: "", value: whole }]],
    "change feed",
  );

  const unavailable = await client.POST("/sessions/{session_id}/restore/", {
    params: { path, header: { "If-Match": '"2"' } },
    body: { rev: 99 },
  });
  if (unavailable.error?.error !== "revision_unavailable") {
    throw new Error(`restore of an unknown rev: ${unavailable.response.status}`);
  }
  // Narrowed by the `error` code: `rev` is typed.
  const missingRev: number = unavailable.error.rev;
  same([unavailable.response.status, missingRev], [422, 99], "restore of an unknown rev is the typed 422");
  const restored = await client.POST("/sessions/{session_id}/restore/", {
    params: { path, header: { "If-Match": '"2"' } },
    body: { rev: 0 },
  });
  const afterRestore = await client.GET("/sessions/{session_id}/", { params: { path } });
  same(
    [restored.data?.rev, restored.data?.restored_from, afterRestore.data?.state],
    [3, 0, state],
    "restore",
  );

  const deleted = await client.DELETE("/sessions/{session_id}/", {
    params: { path, header: { "If-Match": '"3"' } },
  });
  const gone = await client.GET("/sessions/{session_id}/", { params: { path } });
  if (gone.error?.error !== "not_found") throw new Error(`read after delete: ${gone.response.status}`);
  same([deleted.response.status, gone.response.status], [204, 404], "delete");
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
