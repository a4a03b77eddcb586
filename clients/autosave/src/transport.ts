/**
 * HTTP to Solo: the bearer token from the app's `getToken()` (asked again once on 401),
 * answers read whatever their status (every error is JSON in one shape), and network
 * failures told apart from answers. No retry policy lives here: the session decides.
 */
import type { ChangePage, Change, Session } from "./api.js";
import { IDEMPOTENCY_KEY_HEADER } from "./protocol.js";

export type TokenSource = () => string | Promise<string>;

export interface Request {
  method: "GET" | "POST" | "PATCH";
  /** Path under the API base URL, or an absolute URL. */
  path: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  keepalive?: boolean;
}

export interface Answer {
  status: number;
  body: unknown;
  etag: string | null;
  /** Seconds from `Retry-After`, when the server sent one. */
  retryAfter: number | null;
  replayed: boolean;
}

/** No answer at all: offline, refused, reset, or an aborted page. */
export class NetworkError extends Error {
  override name = "NetworkError";
}

/** An answer that is not what the caller can go on with. */
export class ApiError extends Error {
  override name = "ApiError";
  readonly code: string;
  constructor(readonly answer: Answer) {
    const code = errorCode(answer.body) ?? `http_${answer.status}`;
    super(`Solo answered ${answer.status} ${code}`);
    this.code = code;
  }
}

export function errorCode(body: unknown): string | null {
  if (typeof body === "object" && body !== null && "error" in body && typeof body.error === "string") {
    return body.error;
  }
  return null;
}

export class Api {
  #token: string | null = null;
  readonly #baseUrl: string;

  constructor(
    baseUrl: string,
    readonly getToken: TokenSource,
    readonly fetch: typeof globalThis.fetch = globalThis.fetch.bind(globalThis),
  ) {
    this.#baseUrl = baseUrl.replace(/\/+$/, "");
  }

  /** One request; on 401 the token is asked for again and the request sent once more. */
  async send(request: Request): Promise<Answer> {
    const first = await this.#sendWith(request, await this.#currentToken());
    if (first.status !== 401) return first;
    this.#token = await this.getToken();
    return this.#sendWith(request, this.#token);
  }

  /** Like send, but anything but 2xx is an ApiError. */
  async expect(request: Request): Promise<Answer> {
    const answer = await this.send(request);
    if (answer.status < 200 || answer.status > 299) throw new ApiError(answer);
    return answer;
  }

  async getSession(sessionId: string): Promise<Session> {
    return (await this.expect({ method: "GET", path: sessionPath(sessionId) })).body as Session;
  }

  async createSession(state: object, key: string): Promise<Session> {
    const answer = await this.expect({
      method: "POST",
      path: "/sessions/",
      headers: { "Content-Type": "application/json", [IDEMPOTENCY_KEY_HEADER]: key },
      body: JSON.stringify({ state }),
    });
    return answer.body as Session;
  }

  /** Every change after `since`, page by page; `rev` is the session's rev at the end. */
  async changesSince(sessionId: string, since: number): Promise<{ rev: number; changes: Change[] }> {
    const changes: Change[] = [];
    let from = since;
    for (;;) {
      const answer = await this.expect({
        method: "GET",
        path: `${sessionPath(sessionId)}changes/?since=${from}&limit=1000`,
      });
      const page = answer.body as ChangePage;
      changes.push(...page.changes);
      const last = page.changes.at(-1);
      if (!page.more || last === undefined) return { rev: Math.max(page.rev, last?.rev ?? from), changes };
      from = last.rev;
    }
  }

  async #currentToken(): Promise<string> {
    this.#token ??= await this.getToken();
    return this.#token;
  }

  async #sendWith(request: Request, token: string): Promise<Answer> {
    const url = /^https?:\/\//.test(request.path) ? request.path : this.#baseUrl + request.path;
    let response: Response;
    try {
      response = await this.fetch(url, {
        method: request.method,
        headers: { ...request.headers, Authorization: `Bearer ${token}` },
        body: (request.body ?? null) as BodyInit | null,
        keepalive: request.keepalive ?? false,
        cache: "no-store",
      });
    } catch (error) {
      throw new NetworkError(error instanceof Error ? error.message : String(error));
    }
    let body: unknown = null;
    try {
      const text = await response.text();
      body = text === "" ? null : JSON.parse(text);
    } catch (error) {
      if (response.ok) throw new NetworkError(`unreadable answer: ${String(error)}`);
    }
    return {
      status: response.status,
      body,
      etag: response.headers.get("ETag"),
      retryAfter: retryAfterSeconds(response.headers.get("Retry-After")),
      replayed: response.headers.get("Idempotent-Replayed") === "true",
    };
  }
}

export function sessionPath(sessionId: string): string {
  return `/sessions/${encodeURIComponent(sessionId)}/`;
}

function retryAfterSeconds(header: string | null): number | null {
  if (header === null) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds;
  const date = Date.parse(header);
  return Number.isNaN(date) ? null : Math.max(0, (date - Date.now()) / 1000);
}
