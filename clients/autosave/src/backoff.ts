/**
 * How long to wait before trying a request again: exponential with jitter (half the ceiling plus a random half, so tabs
 * and clients that failed together do not come back together), and never sooner than the
 * server's `Retry-After`, plus up to a fifth of it so they do not all come back at that
 * second either.
 */

export interface Backoff {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { initialMs: 500, maxMs: 30_000 };

export function retryDelay(attempt: number, retryAfterSeconds: number | null, random: () => number, policy: Backoff = DEFAULT_BACKOFF): number {
  const ceiling = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.max(0, attempt - 1));
  const jittered = ceiling / 2 + random() * (ceiling / 2);
  if (retryAfterSeconds === null) return jittered;
  const serverMs = retryAfterSeconds * 1000;
  return serverMs + random() * (serverMs / 5) + (serverMs === 0 ? jittered : 0);
}
