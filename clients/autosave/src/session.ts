/**
 * One writer of one session: the local state the app edits, the base (the server's state
 * at `baseRev` as this writer last knew it), and at most one write on its way.
 *
 * Everything that talks to the server runs in one loop (`#run`), one step at a time:
 * deliver the pending write until the server has answered it, else catch up with newer
 * revisions, else turn the unsent edits into the next write. So one request is in flight
 * per session, the base never moves under a write in flight, and a remote revision is
 * applied once: the writer's own revisions come back as `rev` events it already has.
 */
import type { Change, Operation } from "./api.js";
import { retryDelay, type Backoff } from "./backoff.js";
import { diff } from "./diff.js";
import { gzipper, type Gzip } from "./gzip.js";
import { equal, type JsonObject } from "./json.js";
import { follow, type EventSourceFactory } from "./live.js";
import { merge3, type Conflict } from "./merge.js";
import type { OutboxStore, PendingWrite, WriterRecord } from "./outbox.js";
import { applyPatch } from "./patch.js";
import type { RebasedWriteResult, RevEvent } from "./protocol.js";
import { ApiError, errorCode, NetworkError, type Answer, type Api } from "./transport.js";
import { requestOf, smallDiff, write } from "./writes.js";

export type StatusKind = "saved" | "saving" | "pending" | "offline" | "conflict" | "error";

export interface Status {
  kind: StatusKind;
  /** Local edits the server does not have yet. */
  pending: number;
  /** Set when kind is "error": the server's error code, or "network". */
  error?: string;
}

export interface Timing {
  /** Quiet time after the last edit before a write. */
  debounceMs: number;
  /** Longest an edit waits while typing goes on. */
  maxWaitMs: number;
  /** Least time between two writes of this writer (the write budget is per user). */
  minIntervalMs: number;
}

export const DEFAULT_TIMING: Timing = { debounceMs: 500, maxWaitMs: 2000, minIntervalMs: 2000 };

export interface SessionEvents {
  status: Status;
  saved: { rev: number };
  /** Others' revisions arrived and were merged into the local state. */
  remote: { rev: number; state: JsonObject };
  /** Both sides changed these places; the state keeps the local version, `remote` has theirs. */
  conflict: { conflicts: Conflict[]; state: JsonObject };
}

export interface EngineOptions {
  api: Api;
  store: OutboxStore;
  record: WriterRecord;
  eventsUrl: string | null;
  timing: Timing;
  serverRebase: boolean;
  eventSource: EventSourceFactory | null;
  random: () => number;
  backoff: Backoff;
  /** Run by close(): page listeners removed, the writer's lock released. */
  cleanups: Array<() => void>;
}

/** Statuses on which the same request is sent again later (same key, same bytes). */
const RETRY_LATER = new Set([408, 429, 500, 502, 503, 504]);

type Listener<T> = (value: T) => void;

export class AutosaveSession {
  readonly sessionId: string;
  readonly writerId: string;
  #api: Api;
  #store: OutboxStore;
  #timing: Timing;
  #serverRebase: boolean;
  #random: () => number;
  #backoff: Backoff;
  #gzip: Gzip = gzipper();
  #base: JsonObject;
  #baseRev: number;
  #local: JsonObject;
  #pending: PendingWrite | null;
  #edits = 0;
  #ackedEdits = 0;
  #firstUnsentAt: number | null = null;
  #lastEditAt = 0;
  #lastSendAt = 0;
  #announced = 0;
  #eventOps = new Map<number, Operation[]>();
  #conflicts: Conflict[] = [];
  #error: string | null = null;
  #offline = false;
  #sending = false;
  #forceSave = false;
  #flushing = false;
  #closed = false;
  #running = false;
  #rerun = false;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #wakers = new Set<() => void>();
  #flushWaiters: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  #listeners = new Map<keyof SessionEvents, Set<Listener<never>>>();
  #status: Status = { kind: "saved", pending: 0 };
  #persisting: Promise<void> = Promise.resolve();
  #eventSource: EventSourceFactory | null;
  #eventsUrl: string | null;
  #stopLive: (() => void) | null = null;
  #liveAttempts = 0;
  #cleanups: Array<() => void>;

  constructor(options: EngineOptions) {
    const { record } = options;
    this.sessionId = record.sessionId;
    this.writerId = record.writerId;
    this.#api = options.api;
    this.#store = options.store;
    this.#timing = options.timing;
    this.#serverRebase = options.serverRebase;
    this.#random = options.random;
    this.#backoff = options.backoff;
    this.#base = record.base;
    this.#baseRev = record.baseRev;
    this.#local = record.local;
    this.#pending = record.pending;
    this.#eventSource = options.eventSource;
    this.#eventsUrl = options.eventsUrl;
    this.#cleanups = options.cleanups;
    if (record.pending !== null || !equal(record.local, record.base)) {
      this.#firstUnsentAt = 0;
      this.#edits = 1;
    }
    this.#status = this.#computeStatus();
  }

  /** The local state: what the app shows. Treat it as immutable. */
  get state(): JsonObject {
    return this.#local;
  }

  /** The newest revision this writer has merged. */
  get rev(): number {
    return this.#baseRev;
  }

  get status(): Status {
    return this.#status;
  }

  /** Unresolved conflicts, oldest first; `resolveConflicts()` clears them. */
  get conflicts(): readonly Conflict[] {
    return this.#conflicts;
  }

  on<K extends keyof SessionEvents>(event: K, listener: Listener<SessionEvents[K]>): () => void {
    const listeners = this.#listeners.get(event) ?? new Set();
    listeners.add(listener as Listener<never>);
    this.#listeners.set(event, listeners);
    return () => listeners.delete(listener as Listener<never>);
  }

  /**
   * Replace the local state with `next` (a new object: unchanged subtrees may be shared
   * with the current state, which makes diffs cheap), or with what `recipe` returns.
   */
  update(next: JsonObject | ((state: JsonObject) => JsonObject)): void {
    if (this.#closed) throw new Error("this autosave session is closed");
    const state = typeof next === "function" ? next(this.#local) : next;
    if (state === this.#local) return;
    this.#local = state;
    this.#edits += 1;
    this.#lastEditAt = Date.now();
    this.#firstUnsentAt ??= this.#lastEditAt;
    if (this.#error !== null && this.#error !== "not_found") this.#error = null;
    this.#changed();
  }

  /** Apply RFC 6902 ops to the local state. */
  apply(ops: readonly Operation[]): void {
    this.update(applyPatch(this.#local, ops));
  }

  resolveConflicts(): void {
    this.#conflicts = [];
    this.#changed();
  }

  /** Send what is unsent now, and resolve once the server has all of it. */
  flush(): Promise<void> {
    if (this.#closed) return Promise.reject(new Error("this autosave session is closed"));
    if (this.#error !== null && this.#error !== "not_found") this.#error = null;
    this.#flushing = true;
    const done = new Promise<void>((resolve, reject) => this.#flushWaiters.push({ resolve, reject }));
    this.#wake(false);
    this.#changed();
    return done;
  }

  /**
   * Stop: no more requests, no more events. Unsent edits and an unanswered write stay in
   * the outbox, and the next page that opens this session sends them.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#stopLive?.();
    this.#wake(true);
    this.#gzip.close();
    await this.#saveOrForget();
    for (const cleanup of this.#cleanups.splice(0)) cleanup();
    for (const waiter of this.#flushWaiters.splice(0)) waiter.reject(new Error("closed before saved"));
  }

  /** Start following the event stream (when the engine has one). */
  startLive(): void {
    if (this.#eventSource === null || this.#eventsUrl === null || this.#closed) return;
    const open = this.#eventSource;
    this.#stopLive = follow(
      this.#eventsUrl,
      {
        rev: (event) => this.#heard(event),
        ended: () => void this.#reconnectLive(),
        deleted: () => this.#fail("not_found"),
      },
      open,
    );
  }

  /** The page is going away: send a small diff now with keepalive, keep the rest in the outbox. */
  hide(): void {
    if (this.#closed) return;
    if (this.#pending === null && !this.#running && this.#unsent()) {
      const ops = diff(this.#base, this.#local);
      const pending = ops.length === 0 ? null : smallDiff(this.#writeContext(), ops);
      if (pending !== null) this.#begin(pending);
    }
    void this.#saveOrForget();
    this.#kick();
  }

  /** The network is back (the browser's `online` event). */
  online(): void {
    this.#offline = false;
    this.#wake(false);
    this.#kick();
  }

  /** The browser says it is offline: no request can succeed until `online()`. */
  offline(): void {
    this.#offline = true;
    this.#changed();
  }

  // The loop.

  #kick(): void {
    if (this.#closed) return;
    if (this.#running) {
      this.#rerun = true;
      return;
    }
    void this.#run();
  }

  async #run(): Promise<void> {
    this.#running = true;
    try {
      do {
        this.#rerun = false;
        await this.#steps();
      } while (this.#rerun && !this.#closed);
    } catch (error) {
      this.#fail(error instanceof ApiError ? error.code : "internal");
    } finally {
      this.#running = false;
      this.#changed();
    }
  }

  async #steps(): Promise<void> {
    while (!this.#closed && this.#error === null) {
      if (this.#pending !== null) await this.#deliver(this.#pending);
      else if (this.#announced > this.#baseRev) await this.#catchUp();
      else if (this.#due() <= Date.now() && this.#unsent()) await this.#prepare();
      else return;
    }
  }

  #unsent(): boolean {
    return this.#firstUnsentAt !== null;
  }

  /** When the unsent edits should go: debounced, at most maxWait late, budget permitting. */
  #due(): number {
    if (this.#firstUnsentAt === null) return Infinity;
    if (this.#flushing) return 0;
    const { debounceMs, maxWaitMs, minIntervalMs } = this.#timing;
    const wanted = Math.min(this.#lastEditAt + debounceMs, this.#firstUnsentAt + maxWaitMs);
    return Math.max(wanted, this.#lastSendAt + minIntervalMs);
  }

  #schedule(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#closed || this.#running || this.#error !== null) return;
    const due = this.#due();
    if (this.#pending !== null || this.#announced > this.#baseRev || due <= Date.now()) {
      this.#kick();
      return;
    }
    if (due !== Infinity) this.#timer = setTimeout(() => this.#kick(), due - Date.now());
  }

  /** Turn the unsent edits into the next write, stored in the outbox before it is sent. */
  async #prepare(): Promise<void> {
    const started = performance.now();
    const ops = diff(this.#base, this.#local);
    performance.measure("solo-autosave:diff", { start: started });
    if (ops.length === 0) {
      this.#firstUnsentAt = null;
      this.#ackedEdits = this.#edits;
      await this.#saveOrForget();
      return;
    }
    const pending = await write(this.#writeContext(), ops, this.#gzip);
    this.#begin(pending);
    await this.#persist();
    // In the browser's performance timeline (and the bench): the diff on the main thread,
    // then the whole preparation, gzip in the Worker and the outbox write included.
    performance.measure("solo-autosave:prepare", { start: started });
  }

  #writeContext() {
    return {
      sessionId: this.sessionId,
      baseRev: this.#baseRev,
      target: this.#local,
      edits: this.#edits,
      serverRebase: this.#serverRebase,
      forceSave: this.#forceSave,
    };
  }

  #begin(pending: PendingWrite): void {
    this.#pending = pending;
    this.#forceSave = false;
    this.#firstUnsentAt = equal(pending.target, this.#local) ? null : this.#lastEditAt;
    this.#lastSendAt = Date.now();
  }

  /** Send the pending write until the server has answered it for good. */
  async #deliver(pending: PendingWrite): Promise<void> {
    let attempt = 0;
    while (!this.#closed) {
      const answer = await this.#attempt(pending);
      if (answer === null) {
        attempt += 1;
        await this.#sleep(retryDelay(attempt, null, this.#random, this.#backoff), true);
        continue;
      }
      if (answer.status === 200 || answer.status === 201) {
        await this.#written(pending, answer.body as RebasedWriteResult);
        return;
      }
      const code = errorCode(answer.body);
      if (RETRY_LATER.has(answer.status) || code === "idempotency_in_progress") {
        attempt += 1;
        await this.#sleep(retryDelay(attempt, answer.retryAfter, this.#random, this.#backoff), false);
        continue;
      }
      await this.#refused(pending, answer, code);
      return;
    }
  }

  /** One try; null when no answer came (offline, reset, server down). */
  async #attempt(pending: PendingWrite): Promise<Answer | null> {
    this.#sending = true;
    this.#changed();
    try {
      const answer = await this.#api.send(requestOf(pending));
      this.#offline = false;
      return answer;
    } catch (error) {
      if (!(error instanceof NetworkError)) throw error;
      this.#offline = true;
      return null;
    } finally {
      this.#sending = false;
      this.#changed();
    }
  }

  /** The write is in: the base becomes what the server holds at the new rev. */
  async #written(pending: PendingWrite, result: RebasedWriteResult): Promise<void> {
    let base = pending.target;
    if (result.rebased_from !== undefined && result.rev > pending.baseRev + 1) {
      const changes = result.changes ?? (await this.#changesSince(pending.baseRev)).changes;
      base = applyChanges(this.#base, changes.filter((change) => change.rev <= result.rev));
    }
    this.#pending = null;
    this.#ackedEdits = Math.max(this.#ackedEdits, pending.edits);
    this.#takeRemote(base, result.rev, pending.target);
    this.#emit("saved", { rev: result.rev });
    if (!this.#unsent()) await this.#saveOrForget();
  }

  /** The server refused the write; nothing of it was applied (or, replayed, it was already). */
  async #refused(pending: PendingWrite, answer: Answer, code: string | null): Promise<void> {
    this.#pending = null;
    this.#firstUnsentAt ??= this.#lastEditAt;
    if (answer.status === 412 || code === "rebase_conflict" || code === "rev_mismatch") {
      await this.#catchUp(pending);
    } else if (code === "changes_compacted" || code === "invalid_ops" || code === "idempotency_key_reused") {
      await this.#refetch();
    } else if (answer.status === 413 && pending.kind === "diff") {
      this.#forceSave = true;
    } else if (answer.status === 401) {
      this.#pending = pending;
      this.#fail("unauthorized");
    } else {
      this.#fail(code ?? `http_${answer.status}`);
    }
  }

  // Remote revisions.

  #heard(event: RevEvent): void {
    this.#liveAttempts = 0;
    if (event.rev <= this.#baseRev) return;
    if (event.ops !== undefined) this.#eventOps.set(event.rev, event.ops);
    this.#announced = Math.max(this.#announced, event.rev);
    this.#kick();
  }

  /**
   * Bring the base up to the newest rev: from the event's ops, else from the change feed.
   * `refused` is a write the server just refused: if the first change after its base made
   * exactly its target, an earlier try of it went through (its answer was lost, and the
   * server had forgotten or never kept its key), and the local edits are merged onto it.
   */
  async #catchUp(refused?: PendingWrite): Promise<void> {
    const ops = this.#eventOps.get(this.#baseRev + 1);
    if (refused === undefined && ops !== undefined && this.#announced === this.#baseRev + 1) {
      const base = patched(this.#base, ops);
      if (base !== null) return this.#takeRemote(base, this.#baseRev + 1, this.#base);
    }
    let feed: { rev: number; changes: Change[] };
    try {
      feed = await this.#changesSince(this.#baseRev);
    } catch (error) {
      if (error instanceof ApiError && error.code === "changes_compacted") return this.#refetch();
      throw error;
    }
    this.#announced = Math.max(this.#announced, feed.rev);
    if (feed.rev <= this.#baseRev) return;
    const [first, ...rest] = feed.changes;
    if (refused !== undefined && first?.rev === refused.baseRev + 1) {
      const made = patched(this.#base, first.ops);
      if (made !== null && equal(made, refused.target)) {
        this.#takeRemote(applyChanges(refused.target, rest), feed.rev, refused.target);
        return;
      }
    }
    this.#takeRemote(applyChanges(this.#base, feed.changes), feed.rev, this.#base);
  }

  async #refetch(): Promise<void> {
    const session = await this.#retrying(() => this.#api.getSession(this.sessionId));
    this.#eventsUrl = session.events_url;
    this.#takeRemote(session.state as JsonObject, session.rev, this.#base);
  }

  /**
   * The server holds `base` at `rev`; `ancestor` is what the local edits were made on.
   * The local state becomes the three-way merge, and only what the server lacks stays unsent.
   */
  #takeRemote(base: JsonObject, rev: number, ancestor: JsonObject): void {
    const merged = merge3(ancestor, this.#local, base);
    const remoteChanged = !equal(ancestor, base);
    this.#base = base;
    this.#baseRev = rev;
    this.#announced = Math.max(this.#announced, rev);
    for (const heard of this.#eventOps.keys()) if (heard <= rev) this.#eventOps.delete(heard);
    this.#local = merged.state;
    if (equal(this.#local, this.#base)) this.#firstUnsentAt = null;
    else this.#firstUnsentAt ??= this.#lastEditAt;
    if (remoteChanged) this.#emit("remote", { rev, state: this.#local });
    if (merged.conflicts.length > 0) {
      this.#conflicts.push(...merged.conflicts);
      this.#emit("conflict", { conflicts: merged.conflicts, state: this.#local });
    }
    this.#changed();
  }

  async #changesSince(rev: number): Promise<{ rev: number; changes: Change[] }> {
    return this.#retrying(() => this.#api.changesSince(this.sessionId, rev));
  }

  /** A read, retried through network failures, 429 and 503 as writes are. */
  async #retrying<T>(read: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await read();
      } catch (error) {
        const retryable =
          error instanceof NetworkError || (error instanceof ApiError && RETRY_LATER.has(error.answer.status));
        if (!retryable || this.#closed) throw error;
        const retryAfter = error instanceof ApiError ? error.answer.retryAfter : null;
        await this.#sleep(retryDelay(attempt, retryAfter, this.#random, this.#backoff), retryAfter === null);
      }
    }
  }

  async #reconnectLive(): Promise<void> {
    this.#stopLive = null;
    if (this.#closed) return;
    this.#liveAttempts += 1;
    await this.#sleep(retryDelay(this.#liveAttempts, null, this.#random, this.#backoff), true);
    try {
      const session = await this.#retrying(() => this.#api.getSession(this.sessionId));
      this.#eventsUrl = session.events_url;
      this.#announced = Math.max(this.#announced, session.rev);
      this.startLive();
      this.#kick();
    } catch (error) {
      if (error instanceof ApiError && error.code === "not_found") this.#fail("not_found");
      else void this.#reconnectLive();
    }
  }

  // The outbox, status and events.

  #record(): WriterRecord {
    return {
      sessionId: this.sessionId,
      writerId: this.writerId,
      baseRev: this.#baseRev,
      base: this.#base,
      local: this.#local,
      pending: this.#pending,
      savedAt: Date.now(),
    };
  }

  /** Store the record. */
  #persist(): Promise<void> {
    return this.#issued(this.#store.put(this.#record()));
  }

  /** Keep the record while anything is owed to the server, else drop it. */
  #saveOrForget(): Promise<void> {
    const owed = this.#pending !== null || this.#unsent();
    if (owed && this.#error !== "not_found") return this.#persist();
    return this.#issued(this.#store.remove(this.sessionId, this.writerId));
  }

  /**
   * An outbox write is issued at once, not after the one before it ends: a page being closed
   * gets no later turn (on pagehide, a write queued behind a slow one was lost), and the
   * stores keep their writes in the order they were issued (IndexedDB runs read-write
   * transactions on one store in the order they were created). Resolves once every write
   * issued so far has ended.
   */
  #issued(write: Promise<void>): Promise<void> {
    const ended = write.catch(() => undefined);
    this.#persisting = this.#persisting.then(() => ended);
    return this.#persisting;
  }

  #fail(code: string): void {
    this.#error = code;
    for (const waiter of this.#flushWaiters.splice(0)) waiter.reject(new Error(`autosave failed: ${code}`));
    this.#flushing = false;
    this.#changed();
  }

  #computeStatus(): Status {
    const pending = Math.max(0, this.#edits - this.#ackedEdits);
    if (this.#error !== null) return { kind: "error", pending, error: this.#error };
    if (this.#offline && (this.#pending !== null || this.#unsent())) return { kind: "offline", pending };
    if (this.#conflicts.length > 0) return { kind: "conflict", pending };
    if (this.#sending || this.#pending !== null) return { kind: "saving", pending };
    if (this.#unsent()) return { kind: "pending", pending };
    return { kind: "saved", pending: 0 };
  }

  /** After any change: the status, flush() promises, and the next timer. */
  #changed(): void {
    const status = this.#computeStatus();
    if (status.kind !== this.#status.kind || status.pending !== this.#status.pending || status.error !== this.#status.error) {
      this.#status = status;
      this.#emit("status", status);
    }
    if (this.#pending === null && !this.#unsent() && !this.#running && this.#flushWaiters.length > 0) {
      this.#flushing = false;
      for (const waiter of this.#flushWaiters.splice(0)) waiter.resolve();
    }
    if (!this.#running) this.#schedule();
  }

  #emit<K extends keyof SessionEvents>(event: K, value: SessionEvents[K]): void {
    for (const listener of this.#listeners.get(event) ?? []) (listener as Listener<SessionEvents[K]>)(value);
  }

  /** A wait that `online()` (when `onOnline`), `flush()` and `close()` cut short. */
  #sleep(ms: number, onOnline: boolean): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#wakers.delete(wake);
        resolve();
      };
      const wake = Object.assign(done, { onOnline });
      const timer = setTimeout(done, ms);
      this.#wakers.add(wake);
    });
  }

  /** End waits: all of them (close), or only those for the network to come back. */
  #wake(all: boolean): void {
    for (const waker of [...this.#wakers]) {
      if (all || (waker as { onOnline?: boolean }).onOnline === true) waker();
    }
  }
}

function applyChanges(state: JsonObject, changes: readonly Change[]): JsonObject {
  return changes.reduce((current, change) => applyPatch(current, change.ops), state);
}

/** The state after an event's ops, or null if they do not apply (then the feed decides). */
function patched(state: JsonObject, ops: readonly Operation[]): JsonObject | null {
  try {
    return applyPatch(state, ops);
  } catch {
    return null;
  }
}
