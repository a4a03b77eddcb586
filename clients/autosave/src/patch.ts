/**
 * RFC 6902 JSON Patch, applied without mutating its input: every container on an op's path
 * is copied and everything else is shared, so applying a small change to a 2 MiB state
 * costs the path's length, and `equal` on the result short-circuits on shared subtrees.
 */
import type { Operation } from "./api.js";
import { equal, isObject, type Json, type JsonObject } from "./json.js";
import { decodePointer } from "./pointer.js";

export class PatchError extends Error {
  override name = "PatchError";
}

export function applyPatch(state: JsonObject, ops: readonly Operation[]): JsonObject {
  let root: Json = state;
  for (const op of ops) root = applyOperation(root, op);
  if (!isObject(root)) throw new PatchError("a patch turned the state into a non-object");
  return root;
}

function applyOperation(root: Json, op: Operation): Json {
  const path = decodePointer(op.path);
  const value = op.value as Json;
  switch (op.op) {
    case "add":
      return add(root, path, value);
    case "remove":
      return remove(root, path);
    case "replace":
      get(root, path);
      return path.length === 0 ? value : set(root, path, value);
    case "move": {
      const from = decodePointer(requireFrom(op));
      return add(remove(root, from), path, get(root, from));
    }
    case "copy":
      return add(root, path, get(root, decodePointer(requireFrom(op))));
    case "test":
      if (!equal(get(root, path), value)) throw new PatchError(`test failed at ${op.path}`);
      return root;
  }
}

function requireFrom(op: Operation): string {
  if (op.from === undefined) throw new PatchError(`${op.op} needs from`);
  return op.from;
}

function get(root: Json, path: readonly string[]): Json {
  let node: Json = root;
  for (const token of path) {
    if (Array.isArray(node)) node = at(node, index(node, token, false));
    else if (isObject(node) && Object.hasOwn(node, token)) node = node[token] as Json;
    else throw new PatchError(`no value at /${path.join("/")}`);
  }
  return node;
}

function at(array: Json[], position: number): Json {
  const value = array[position];
  if (value === undefined) throw new PatchError(`no element ${position}`);
  return value;
}

function index(array: readonly Json[], token: string, inserting: boolean): number {
  if (inserting && token === "-") return array.length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw new PatchError(`bad array index ${token}`);
  const position = Number(token);
  if (position > array.length || (!inserting && position === array.length)) {
    throw new PatchError(`array index ${token} out of range`);
  }
  return position;
}

/** Copy the containers along `parentPath` and let `change` edit the last (a fresh copy). */
function withParent(root: Json, path: readonly string[], change: (parent: Json[] | JsonObject, token: string) => void): Json {
  if (path.length === 0) throw new PatchError("the whole document has no parent");
  const copy = (node: Json, depth: number): Json => {
    const token = path[depth] as string;
    let container: Json[] | JsonObject;
    if (Array.isArray(node)) container = node.slice();
    else if (isObject(node)) container = { ...node };
    else throw new PatchError(`no container at /${path.slice(0, depth).join("/")}`);
    if (depth === path.length - 1) {
      change(container, token);
      return container;
    }
    if (Array.isArray(container)) {
      const position = index(container, token, false);
      container[position] = copy(at(container, position), depth + 1);
    } else {
      if (!Object.hasOwn(container, token)) throw new PatchError(`no value at /${path.join("/")}`);
      container[token] = copy(container[token] as Json, depth + 1);
    }
    return container;
  };
  return copy(root, 0);
}

function add(root: Json, path: readonly string[], value: Json): Json {
  if (path.length === 0) return value;
  return withParent(root, path, (parent, token) => {
    if (Array.isArray(parent)) parent.splice(index(parent, token, true), 0, value);
    else parent[token] = value;
  });
}

function set(root: Json, path: readonly string[], value: Json): Json {
  return withParent(root, path, (parent, token) => {
    if (Array.isArray(parent)) parent[index(parent, token, false)] = value;
    else parent[token] = value;
  });
}

function remove(root: Json, path: readonly string[]): Json {
  return withParent(root, path, (parent, token) => {
    if (Array.isArray(parent)) parent.splice(index(parent, token, false), 1);
    else if (Object.hasOwn(parent, token)) delete parent[token];
    else throw new PatchError(`no value at /${path.join("/")}`);
  });
}
