// diff(a, b) produces ops that applyPatch turns a into b, and nothing more.
import assert from "node:assert/strict";
import { test } from "node:test";
import { diff } from "../dist/diff.js";
import { applyPatch, PatchError } from "../dist/patch.js";
import { diffText } from "../dist/text.js";

const roundTrip = (a, b) => {
  const ops = diff(a, b);
  assert.deepEqual(applyPatch(a, ops), b);
  return ops;
};

test("equal states make no ops", () => {
  const state = { назва: "Чернетка", блоки: ["а", { б: [1, 2] }] };
  assert.deepEqual(diff(state, structuredClone(state)), []);
});

test("a changed member is one replace at its path", () => {
  assert.deepEqual(roundTrip({ назва: "а", x: 1 }, { назва: "б", x: 1 }), [{ op: "replace", path: "/назва", value: "б" }]);
});

test("members added and removed", () => {
  assert.deepEqual(roundTrip({ a: 1, "b/c~": 2 }, { a: 1, d: null }), [
    { op: "remove", path: "/b~1c~0" },
    { op: "add", path: "/d", value: null },
  ]);
});

test("an element edited in place is diffed inside", () => {
  const a = { блоки: [{ текст: "раз" }, { текст: "два" }, { текст: "три" }] };
  const b = { блоки: [{ текст: "раз" }, { текст: "два!" }, { текст: "три" }] };
  assert.deepEqual(roundTrip(a, b), [{ op: "replace", path: "/блоки/1/текст", value: "два!" }]);
});

test("elements inserted and removed at their indices", () => {
  assert.deepEqual(roundTrip({ b: ["a", "b", "c", "d"] }, { b: ["x", "a", "c", "d", "y"] }), [
    { op: "add", path: "/b/0", value: "x" },
    { op: "remove", path: "/b/2" },
    { op: "add", path: "/b/4", value: "y" },
  ]);
});

test("random edits of arrays and objects round-trip", () => {
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const pick = (list) => list[Math.floor(random() * list.length)];
  const mutate = (array) => {
    const copy = array.slice();
    for (let i = 0; i < 4; i++) {
      const at = Math.floor(random() * (copy.length + 1));
      const action = pick(["add", "remove", "edit"]);
      if (action === "add") copy.splice(at, 0, { t: pick(["α", "β", "γ"]) + at });
      else if (copy.length > 0 && action === "remove") copy.splice(Math.min(at, copy.length - 1), 1);
      else if (copy.length > 0) copy[Math.min(at, copy.length - 1)] = { t: "змінено" };
    }
    return copy;
  };
  let state = { b: Array.from({ length: 20 }, (_, i) => ({ t: `блок ${i}` })) };
  for (let round = 0; round < 200; round++) {
    const next = { b: mutate(state.b), n: round };
    roundTrip(state, next);
    state = next;
  }
});

test("a type change at the root of a member is one replace", () => {
  assert.deepEqual(roundTrip({ a: [1] }, { a: { 0: 1 } }), [{ op: "replace", path: "/a", value: { 0: 1 } }]);
});

test("applyPatch never mutates its input and shares what did not change", () => {
  const untouched = { великий: "x".repeat(1000) };
  const state = { a: { b: [1, 2] }, c: untouched };
  const frozen = JSON.stringify(state);
  const next = applyPatch(state, [
    { op: "add", path: "/a/b/1", value: 9 },
    { op: "move", from: "/a/b/0", path: "/d" },
    { op: "copy", from: "/d", path: "/e" },
    { op: "test", path: "/e", value: 1 },
  ]);
  assert.equal(JSON.stringify(state), frozen);
  assert.deepEqual(next, { a: { b: [9, 2] }, c: untouched, d: 1, e: 1 });
  assert.equal(next.c, untouched);
  assert.throws(() => applyPatch(state, [{ op: "test", path: "/a/b/0", value: 2 }]), PatchError);
  assert.throws(() => applyPatch(state, [{ op: "remove", path: "/нема" }]), PatchError);
  assert.throws(() => applyPatch(state, [{ op: "add", path: "/a/b/3", value: 0 }]), PatchError);
});

test("a huge paste is one hunk without running Myers over it", () => {
  const pasted = "абв".repeat(30000);
  assert.deepEqual(diffText("початок кінець", `початок ${pasted}кінець`), [
    { aStart: 8, aEnd: 8, bStart: 8, bEnd: 8 + pasted.length },
  ]);
});
