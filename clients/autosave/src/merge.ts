/**
 * Three-way merge of JSON states: what ours (the local edits) and theirs (the server's
 * newer revisions) each changed since their common base. Members merge by key, arrays by
 * changed regions (blocks inserted on one side and edited on the other both stay), strings
 * by characters (mergeText). Where both sides changed one place differently, ours is kept
 * and a Conflict records all three versions, so the other is never dropped silently.
 */
import { equal, isObject, member, type Json, type JsonObject } from "./json.js";
import { childPointer } from "./pointer.js";
import { changedRegions, type Region } from "./regions.js";
import { diffSequences } from "./sequence.js";
import { mergeText } from "./text.js";

export interface Conflict {
  /** JSON Pointer of the value both sides changed. */
  path: string;
  base: Json | undefined;
  /** This client's version, which the merged state keeps (undefined: removed). */
  local: Json | undefined;
  /** The server's version, which the merged state does not have at this place. */
  remote: Json | undefined;
}

export interface Merged {
  state: JsonObject;
  conflicts: Conflict[];
}

export function merge3(base: JsonObject, ours: JsonObject, theirs: JsonObject): Merged {
  const conflicts: Conflict[] = [];
  const state = mergeValue(base, ours, theirs, "", conflicts);
  return { state: isObject(state) ? state : ours, conflicts };
}

function mergeValue(
  base: Json | undefined,
  ours: Json | undefined,
  theirs: Json | undefined,
  path: string,
  conflicts: Conflict[],
): Json | undefined {
  if (ours === theirs || equal(theirs, base)) return ours;
  if (equal(ours, base) || equal(ours, theirs)) return theirs;
  if (isObject(base) && isObject(ours) && isObject(theirs)) return mergeObjects(base, ours, theirs, path, conflicts);
  if (Array.isArray(base) && Array.isArray(ours) && Array.isArray(theirs)) {
    return mergeArrays(base, ours, theirs, path, conflicts);
  }
  if (typeof base === "string" && typeof ours === "string" && typeof theirs === "string") {
    const merged = mergeText(base, ours, theirs);
    if (merged.conflict) conflicts.push({ path, base, local: ours, remote: theirs });
    return merged.text;
  }
  conflicts.push({ path, base, local: ours, remote: theirs });
  return ours;
}

function mergeObjects(base: JsonObject, ours: JsonObject, theirs: JsonObject, path: string, conflicts: Conflict[]): JsonObject {
  const merged: JsonObject = {};
  const keys = new Set([...Object.keys(ours), ...Object.keys(theirs), ...Object.keys(base)]);
  for (const key of keys) {
    const value = mergeValue(member(base, key), member(ours, key), member(theirs, key), childPointer(path, key), conflicts);
    if (value !== undefined) merged[key] = value;
  }
  return merged;
}

function mergeArrays(base: Json[], ours: Json[], theirs: Json[], path: string, conflicts: Conflict[]): Json[] {
  const regions = changedRegions(diffSequences(base, ours, equal), diffSequences(base, theirs, equal));
  const merged: Json[] = [];
  let copied = 0;
  for (const region of regions) {
    merged.push(...base.slice(copied, region.baseStart));
    merged.push(...mergeRegion(region, { base, ours, theirs }, { path, at: merged.length }, conflicts));
    copied = region.baseEnd;
  }
  merged.push(...base.slice(copied));
  return merged;
}

interface Sides {
  base: Json[];
  ours: Json[];
  theirs: Json[];
}

/**
 * One changed region of an array. Both sides inserting at one place keep both insertions
 * (theirs, already on the server, first); an insertion next to the other side's edit keeps
 * both; elements both edited in place merge element by element; anything else conflicts.
 */
function mergeRegion(region: Region, sides: Sides, where: { path: string; at: number }, conflicts: Conflict[]): Json[] {
  const base = sides.base.slice(region.baseStart, region.baseEnd);
  const ours = sides.ours.slice(region.oursStart, region.oursEnd);
  const theirs = sides.theirs.slice(region.theirsStart, region.theirsEnd);
  if (region.changedBy === "ours") return ours;
  if (region.changedBy === "theirs") return theirs;
  if (equal(ours, theirs)) return ours;
  const insertedByOurs = leadingInsertion(region.ours, region.baseStart);
  const insertedByTheirs = leadingInsertion(region.theirs, region.baseStart);
  if (insertedByTheirs !== null && region.theirs.length === 1) {
    return [...theirs.slice(0, insertedByTheirs), ...ours];
  }
  if (insertedByOurs !== null && region.ours.length === 1) {
    return [...ours.slice(0, insertedByOurs), ...theirs];
  }
  if (base.length === ours.length && base.length === theirs.length) {
    return base.map((element, i) => {
      const value = mergeValue(element, ours[i], theirs[i], childPointer(where.path, where.at + i), conflicts);
      return value === undefined ? element : value;
    });
  }
  conflicts.push({ path: where.path, base: sides.base, local: sides.ours, remote: sides.theirs });
  return ours;
}

/** How many elements a side's only hunk inserts at the region's start; null if it is not that. */
function leadingInsertion(hunks: Region["ours"], start: number): number | null {
  const [hunk] = hunks;
  if (hunk === undefined || hunk.aStart !== start || hunk.aEnd !== start) return null;
  return hunk.bEnd - hunk.bStart;
}
