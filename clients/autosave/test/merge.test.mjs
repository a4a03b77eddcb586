// Three-way merges of text and of JSON states: what each side changed since the base.
import assert from "node:assert/strict";
import { test } from "node:test";
import { merge3 } from "../dist/merge.js";
import { mergeText } from "../dist/text.js";

test("typing at two places of one string keeps both", () => {
  const base = "Перший абзац про море.";
  const ours = "Перший довгий абзац про море.";
  const theirs = "Перший абзац про синє море.";
  assert.deepEqual(mergeText(base, ours, theirs), { text: "Перший довгий абзац про синє море.", conflict: false });
});

test("the same change on both sides is kept once", () => {
  assert.deepEqual(mergeText("кіт", "кіт і пес", "кіт і пес"), { text: "кіт і пес", conflict: false });
  assert.deepEqual(mergeText("ab", "abc", "abc"), { text: "abc", conflict: false });
});

test("two different insertions at one place conflict and keep ours", () => {
  assert.deepEqual(mergeText("Привіт, світе", "Привіт, рідний світе", "Привіт, новий світе"), {
    text: "Привіт, рідний світе",
    conflict: true,
  });
});

test("an edit inside a range the other side deleted conflicts", () => {
  assert.deepEqual(mergeText("один два три", "один дваа три", "один три"), { text: "один дваа три", conflict: true });
});

test("adjacent but separate edits do not conflict", () => {
  assert.deepEqual(mergeText("abcdef", "aXcdef", "abcdYf"), { text: "aXcdYf", conflict: false });
});

test("surrogate pairs are never split", () => {
  const merged = mergeText("😀 і 😀", "😃 і 😀", "😀 і 😂");
  assert.deepEqual(merged, { text: "😃 і 😂", conflict: false });
});

test("blocks edited in two tabs merge per block and per character", () => {
  const base = { назва: "Чернетка", блоки: ["перший", "другий", "третій"] };
  const ours = { назва: "Чернетка", блоки: ["перший!", "другий", "третій"] };
  const theirs = { назва: "Нова", блоки: ["перший", "другий", "третій?"] };
  assert.deepEqual(merge3(base, ours, theirs), {
    state: { назва: "Нова", блоки: ["перший!", "другий", "третій?"] },
    conflicts: [],
  });
});

test("a block inserted on one side and a block edited on the other both stay", () => {
  const base = { блоки: ["а", "б"] };
  const ours = { блоки: ["а", "новий", "б"] };
  const theirs = { блоки: ["а", "бб"] };
  assert.deepEqual(merge3(base, ours, theirs), { state: { блоки: ["а", "новий", "бб"] }, conflicts: [] });
  const before = { блоки: ["новий", "а", "б"] };
  assert.deepEqual(merge3(base, before, { блоки: ["аа", "б"] }), {
    state: { блоки: ["новий", "аа", "б"] },
    conflicts: [],
  });
});

test("blocks appended on both sides are both kept, the server's first", () => {
  const merged = merge3({ блоки: ["а"] }, { блоки: ["а", "моє"] }, { блоки: ["а", "їхнє"] });
  assert.deepEqual(merged, { state: { блоки: ["а", "їхнє", "моє"] }, conflicts: [] });
});

test("a member changed on both sides to different numbers conflicts, ours kept", () => {
  const merged = merge3({ n: 1, m: 1 }, { n: 2, m: 1 }, { n: 3, m: 5 });
  assert.deepEqual(merged, { state: { n: 2, m: 5 }, conflicts: [{ path: "/n", base: 1, local: 2, remote: 3 }] });
});

test("a member removed on one side and changed on the other conflicts", () => {
  const merged = merge3({ a: "x", b: 1 }, { b: 1 }, { a: "y", b: 1 });
  assert.deepEqual(merged, { state: { b: 1 }, conflicts: [{ path: "/a", base: "x", local: undefined, remote: "y" }] });
});

test("removal on one side of an untouched member removes it", () => {
  assert.deepEqual(merge3({ a: 1, b: 2 }, { a: 1 }, { a: 1, b: 2, c: 3 }), { state: { a: 1, c: 3 }, conflicts: [] });
});

test("conflicting text inside a block names the block's path", () => {
  const merged = merge3({ блоки: ["рядок"] }, { блоки: ["рядок А"] }, { блоки: ["рядок Б"] });
  assert.deepEqual(merged, {
    state: { блоки: ["рядок А"] },
    conflicts: [{ path: "/блоки/0", base: "рядок", local: "рядок А", remote: "рядок Б" }],
  });
});
