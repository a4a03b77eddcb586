/**
 * The session's event stream (`events_url`) through EventSource: each `rev` event says
 * "the session is at least at this rev", with its ops when they are small. The browser
 * reconnects by itself after a network error; an HTTP error (an expired token's 401, a 429)
 * closes the source for good, and `expired` announces that end: both go back to the
 * session, which re-reads `events_url` with a fresh token.
 */
import type { RevEvent } from "./protocol.js";

export interface LiveHandlers {
  rev(event: RevEvent): void;
  /** The stream's token expired or the browser gave up on it: read a fresh events_url. */
  ended(): void;
  deleted(): void;
}

export type EventSourceFactory = (url: string) => EventSource;

export function follow(url: string, handlers: LiveHandlers, open: EventSourceFactory): () => void {
  const source = open(url);
  let closed = false;
  const close = (): void => {
    closed = true;
    source.close();
  };
  source.addEventListener("rev", (event) => {
    const data = parse((event as MessageEvent<string>).data);
    if (data !== null && typeof data.rev === "number") handlers.rev(data as unknown as RevEvent);
  });
  source.addEventListener("expired", () => {
    close();
    handlers.ended();
  });
  source.addEventListener("deleted", () => {
    close();
    handlers.deleted();
  });
  source.addEventListener("error", () => {
    if (!closed && source.readyState === source.CLOSED) {
      closed = true;
      handlers.ended();
    }
  });
  return close;
}

function parse(data: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(data);
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
