/**
 * The durable outbox: one record per writer (a tab's session object) holding what that
 * writer knows and owes the server, so a reload loses nothing and replays nothing twice.
 * A pending write is stored with its Idempotency-Key and its exact body before it is sent.
 * IndexedDB's structured clone stores an object reachable twice once, so the base, the
 * local state and the pending write's target, which share most of their subtrees, cost
 * about one state.
 */
import type { JsonObject } from "./json.js";

export interface PendingWrite {
  key: string;
  kind: "diff" | "save";
  /** The rev the write was computed on. */
  baseRev: number;
  method: "PATCH" | "POST";
  path: string;
  headers: Record<string, string>;
  /** Exactly the bytes sent, so a replay is the same request. */
  body: string | Uint8Array;
  /** The state the write makes of the base. */
  target: JsonObject;
  /** How many local edits it carries (for the status). */
  edits: number;
}

export interface WriterRecord {
  sessionId: string;
  writerId: string;
  baseRev: number;
  base: JsonObject;
  local: JsonObject;
  pending: PendingWrite | null;
  savedAt: number;
}

/** A store keeps its writes (`put`, `remove`) in the order they were called, whether or not
 * the one before has ended. */
export interface OutboxStore {
  put(record: WriterRecord): Promise<void>;
  remove(sessionId: string, writerId: string): Promise<void>;
  list(sessionId: string): Promise<WriterRecord[]>;
}

/** For tests and for pages without IndexedDB (private modes of some browsers). */
export function memoryStore(): OutboxStore {
  const records = new Map<string, WriterRecord>();
  const id = (sessionId: string, writerId: string): string => `${sessionId}\u0000${writerId}`;
  return {
    async put(record) {
      records.set(id(record.sessionId, record.writerId), structuredClone(record));
    },
    async remove(sessionId, writerId) {
      records.delete(id(sessionId, writerId));
    },
    async list(sessionId) {
      return [...records.values()].filter((record) => record.sessionId === sessionId).map((record) => structuredClone(record));
    },
  };
}

const STORE = "writers";

export function indexedDbStore(name = "solo-autosave"): OutboxStore {
  let opened: Promise<IDBDatabase> | null = null;
  const database = (): Promise<IDBDatabase> => {
    opened ??= new Promise((resolve, reject) => {
      const request = indexedDB.open(name, 1);
      request.onupgradeneeded = () => {
        const store = request.result.createObjectStore(STORE, { keyPath: ["sessionId", "writerId"] });
        store.createIndex("sessionId", "sessionId");
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    return opened;
  };
  const transact = async <T>(mode: IDBTransactionMode, work: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> => {
    const transaction = (await database()).transaction(STORE, mode, { durability: "strict" });
    const request = work(transaction.objectStore(STORE));
    // Commit now rather than when the task ends: on pagehide the page may be gone by then,
    // and a transaction not yet committed dies with it.
    transaction.commit();
    return new Promise((resolve, reject) => {
      transaction.oncomplete = () => resolve(request.result);
      transaction.onabort = () => reject(transaction.error);
      transaction.onerror = () => reject(transaction.error);
    });
  };
  return {
    async put(record) {
      await transact("readwrite", (store) => store.put(record));
    },
    async remove(sessionId, writerId) {
      await transact("readwrite", (store) => store.delete([sessionId, writerId]));
    },
    async list(sessionId) {
      return transact("readonly", (store) => store.index("sessionId").getAll(sessionId) as IDBRequest<WriterRecord[]>);
    },
  };
}

/** IndexedDB where the page has it, else memory (nothing then survives a reload). */
export function defaultStore(): OutboxStore {
  return typeof indexedDB === "undefined" ? memoryStore() : indexedDbStore();
}
