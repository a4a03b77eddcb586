/**
 * Text diff and three-way merge, by characters (code points, so no surrogate pair is ever
 * split): two people typing at different places of one string both keep their words; the
 * same place changed two different ways is a conflict.
 */
import { changedRegions } from "./regions.js";
import { diffSequences, type Hunk } from "./sequence.js";

export interface TextMerge {
  text: string;
  /** True when both sides changed one place differently; `text` then keeps ours there. */
  conflict: boolean;
}

/** Hunks in UTF-16 offsets of `base` and `other`. */
export function diffText(base: string, other: string, maxCost = 512): Hunk[] {
  let start = 0;
  const shortest = Math.min(base.length, other.length);
  while (start < shortest && base.charCodeAt(start) === other.charCodeAt(start)) start++;
  if (start > 0 && isHighSurrogate(base.charCodeAt(start - 1))) start--;
  let baseEnd = base.length;
  let otherEnd = other.length;
  while (baseEnd > start && otherEnd > start && base.charCodeAt(baseEnd - 1) === other.charCodeAt(otherEnd - 1)) {
    baseEnd--;
    otherEnd--;
  }
  if (baseEnd < base.length && isLowSurrogate(base.charCodeAt(baseEnd))) {
    baseEnd++;
    otherEnd++;
  }
  if (start === baseEnd && start === otherEnd) return [];
  const baseChars = Array.from(base.slice(start, baseEnd));
  const otherChars = Array.from(other.slice(start, otherEnd));
  const baseOffsets = offsets(baseChars, start);
  const otherOffsets = offsets(otherChars, start);
  return diffSequences(baseChars, otherChars, (x, y) => x === y, maxCost).map((hunk) => ({
    aStart: baseOffsets[hunk.aStart] as number,
    aEnd: baseOffsets[hunk.aEnd] as number,
    bStart: otherOffsets[hunk.bStart] as number,
    bEnd: otherOffsets[hunk.bEnd] as number,
  }));
}

export function mergeText(base: string, ours: string, theirs: string): TextMerge {
  if (ours === theirs || theirs === base) return { text: ours, conflict: false };
  if (ours === base) return { text: theirs, conflict: false };
  let text = "";
  let conflict = false;
  let copied = 0;
  for (const region of changedRegions(diffText(base, ours), diffText(base, theirs))) {
    text += base.slice(copied, region.baseStart);
    const mine = ours.slice(region.oursStart, region.oursEnd);
    const other = theirs.slice(region.theirsStart, region.theirsEnd);
    if (region.changedBy === "theirs") text += other;
    else {
      text += mine;
      if (region.changedBy === "both" && mine !== other) conflict = true;
    }
    copied = region.baseEnd;
  }
  return { text: text + base.slice(copied), conflict };
}

/** offsets[i] = UTF-16 offset of code point i; offsets[length] = the end. */
function offsets(chars: readonly string[], start: number): number[] {
  const result = [start];
  let offset = start;
  for (const char of chars) {
    offset += char.length;
    result.push(offset);
  }
  return result;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}
