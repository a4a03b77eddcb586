/**
 * Building one write from the base and the local state: a JSON Patch diff when it is
 * small enough and not most of the state, else the whole state as a gzipped save-stream.
 * The diff's precondition is the server's rebase (`If-Match: *` with `Solo-Base-Rev`), or
 * the base's own ETag when the app turned that off; a save-stream always chains on the
 * base's ETag, since the server rebases diffs only.
 */
import type { Operation } from "./api.js";
import type { Gzip } from "./gzip.js";
import { utf8Length, type JsonObject } from "./json.js";
import type { PendingWrite } from "./outbox.js";
import { BASE_REV_HEADER, IDEMPOTENCY_KEY_HEADER } from "./protocol.js";
import { sessionPath } from "./transport.js";

/** The server's diff body limit (after inflation), less room for nothing else. */
export const DIFF_BODY_LIMIT = 512 * 1024;
/** The browsers' budget for keepalive bodies is 64 KiB for the whole page: keep well under. */
export const KEEPALIVE_BODY_LIMIT = 48 * 1024;
/** Diff bodies above this are gzipped. */
export const GZIP_DIFF_ABOVE = 16 * 1024;
/** A diff weighing more than this share of the state goes as the state itself. */
const MOST_OF_THE_STATE = 0.5;

export interface WriteContext {
  sessionId: string;
  baseRev: number;
  target: JsonObject;
  edits: number;
  serverRebase: boolean;
  forceSave: boolean;
}

export function newKey(): string {
  return crypto.randomUUID();
}

/** The write as JSON text when it is a small diff (no compression needed), else null. */
export function smallDiff(context: WriteContext, ops: Operation[]): PendingWrite | null {
  if (context.forceSave) return null;
  const body = JSON.stringify({ ops });
  if (body.length > GZIP_DIFF_ABOVE && utf8Length(body) > GZIP_DIFF_ABOVE) return null;
  return diffWrite(context, body, {});
}

export async function write(context: WriteContext, ops: Operation[], gzip: Gzip): Promise<PendingWrite> {
  const small = smallDiff(context, ops);
  if (small !== null) return small;
  const body = JSON.stringify({ ops });
  const size = utf8Length(body);
  if (!context.forceSave && size <= DIFF_BODY_LIMIT && size <= MOST_OF_THE_STATE * utf8Length(JSON.stringify(context.target))) {
    const gzipped = await gzip.compress(body);
    return gzipped === null ? diffWrite(context, body, {}) : diffWrite(context, gzipped, { "Content-Encoding": "gzip" });
  }
  const state = JSON.stringify(context.target);
  const gzipped = await gzip.compress(state);
  return {
    key: newKey(),
    kind: "save",
    baseRev: context.baseRev,
    method: "POST",
    path: `${sessionPath(context.sessionId)}save-stream/`,
    headers: {
      "Content-Type": "application/json",
      "If-Match": `"${context.baseRev}"`,
      ...(gzipped === null ? {} : { "Content-Encoding": "gzip" }),
    },
    body: gzipped ?? state,
    target: context.target,
    edits: context.edits,
  };
}

function diffWrite(context: WriteContext, body: string | Uint8Array, encoding: Record<string, string>): PendingWrite {
  const precondition: Record<string, string> = context.serverRebase
    ? { "If-Match": "*", [BASE_REV_HEADER]: String(context.baseRev) }
    : { "If-Match": `"${context.baseRev}"` };
  return {
    key: newKey(),
    kind: "diff",
    baseRev: context.baseRev,
    method: "PATCH",
    path: `${sessionPath(context.sessionId)}diff/`,
    headers: { "Content-Type": "application/json", ...precondition, ...encoding },
    body,
    target: context.target,
    edits: context.edits,
  };
}

/** The request a pending write is, every time it is sent: same key, same bytes. */
export function requestOf(pending: PendingWrite): {
  method: "PATCH" | "POST";
  path: string;
  headers: Record<string, string>;
  body: string | Uint8Array;
  keepalive: boolean;
} {
  const size = typeof pending.body === "string" ? utf8Length(pending.body) : pending.body.byteLength;
  return {
    method: pending.method,
    path: pending.path,
    headers: { ...pending.headers, [IDEMPOTENCY_KEY_HEADER]: pending.key },
    body: pending.body,
    keepalive: size <= KEEPALIVE_BODY_LIMIT,
  };
}
