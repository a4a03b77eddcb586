/**
 * The RFC 6902 ops that turn one state into another: members added, removed or changed
 * by key; arrays by the elements that differ (an element edited in place is diffed inside,
 * inserted and removed elements are `add` and `remove` at their index); any other change is
 * one `replace`. JSON Patch has no string splice, so a changed string is replaced whole.
 */
import type { Operation } from "./api.js";
import { equal, isObject, member, type Json } from "./json.js";
import { childPointer } from "./pointer.js";
import { diffSequences } from "./sequence.js";

export function diff(from: Json, to: Json, path = ""): Operation[] {
  const ops: Operation[] = [];
  diffInto(from, to, path, ops);
  return ops;
}

function diffInto(from: Json, to: Json, path: string, ops: Operation[]): void {
  if (from === to) return;
  if (isObject(from) && isObject(to)) {
    for (const key of Object.keys(from)) {
      if (!Object.hasOwn(to, key)) ops.push({ op: "remove", path: childPointer(path, key) });
    }
    for (const key of Object.keys(to)) {
      const before = member(from, key);
      const after = to[key] as Json;
      if (before === undefined) ops.push({ op: "add", path: childPointer(path, key), value: after });
      else diffInto(before, after, childPointer(path, key), ops);
    }
  } else if (Array.isArray(from) && Array.isArray(to)) {
    diffArray(from, to, path, ops);
  } else if (!equal(from, to)) {
    ops.push({ op: "replace", path, value: to });
  }
}

function diffArray(from: readonly Json[], to: readonly Json[], path: string, ops: Operation[]): void {
  let shift = 0;
  for (const hunk of diffSequences(from, to, equal)) {
    const removed = hunk.aEnd - hunk.aStart;
    const added = hunk.bEnd - hunk.bStart;
    const at = hunk.aStart + shift;
    const paired = Math.min(removed, added);
    for (let i = 0; i < paired; i++) {
      diffInto(from[hunk.aStart + i] as Json, to[hunk.bStart + i] as Json, childPointer(path, at + i), ops);
    }
    for (let i = paired; i < removed; i++) ops.push({ op: "remove", path: childPointer(path, at + paired) });
    for (let i = paired; i < added; i++) {
      ops.push({ op: "add", path: childPointer(path, at + i), value: to[hunk.bStart + i] as Json });
    }
    shift += added - removed;
  }
}
