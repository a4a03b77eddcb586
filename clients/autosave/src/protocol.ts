/**
 * Shapes of the server protocol of issues 15 and 19 (idempotent writes, server rebase,
 * auth reasons, events with ops) that openapi/solo.yaml does not declare yet. Written by
 * hand from the protocol text, in this one module; once the spec declares them, these
 * become aliases of the generated types (api.ts) and the names stay.
 */
import type { Change, Operation, WriteResult } from "./api.js";

/** The rev the ops were computed on; sent with `If-Match: *` so the server rebases them. */
export const BASE_REV_HEADER = "Solo-Base-Rev";
export const IDEMPOTENCY_KEY_HEADER = "Idempotency-Key";

/** A write's answer: `rebased_from` and `changes` when others wrote since the base rev. */
export interface RebasedWriteResult extends WriteResult {
  rebased_from?: number;
  /** Change-feed entries for revs rebased_from+1 … rev; left out past 256 KiB. */
  changes?: Change[];
}

/** 409: the server could not rebase; nothing was applied. */
export interface RebaseConflict {
  error: "rebase_conflict";
  rev: number;
  paths: string[];
  request_id: string;
  message?: string;
}

/** `event: rev` data; `ops` present when they are small. */
export interface RevEvent {
  rev: number;
  updated_at: string;
  ops?: Operation[];
}

/** 401's reason: the client asks for a new token on `expired` and `invalid`. */
export type UnauthorizedReason = "missing" | "invalid" | "expired";

/** Codes the protocol adds to the spec's (api.ts ErrorCode). */
export type ProtocolErrorCode = "rebase_conflict" | "too_many_streams";
