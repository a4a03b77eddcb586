/**
 * The heart of a three-way merge: the hunks of base→ours and base→theirs grouped into
 * changed regions of the base. A region changed by one side only takes that side; a
 * region both changed is for the caller to resolve. Two hunks belong to one region when
 * their base ranges overlap or start at the same place (two insertions at one point).
 */
import type { Hunk } from "./sequence.js";

export type Side = "ours" | "theirs" | "both";

export interface Region {
  baseStart: number;
  baseEnd: number;
  oursStart: number;
  oursEnd: number;
  theirsStart: number;
  theirsEnd: number;
  changedBy: Side;
  /** The hunks of each side in this region, in base coordinates. */
  ours: Hunk[];
  theirs: Hunk[];
}

interface Tagged {
  hunk: Hunk;
  side: "ours" | "theirs";
}

export function changedRegions(oursHunks: readonly Hunk[], theirsHunks: readonly Hunk[]): Region[] {
  const tagged: Tagged[] = [
    ...oursHunks.map((hunk): Tagged => ({ hunk, side: "ours" })),
    ...theirsHunks.map((hunk): Tagged => ({ hunk, side: "theirs" })),
  ].sort((x, y) => x.hunk.aStart - y.hunk.aStart || x.hunk.aEnd - y.hunk.aEnd);
  const regions: Region[] = [];
  const shift = { ours: 0, theirs: 0 };
  let group: Tagged[] = [];
  let groupEnd = -1;
  const close = (): void => {
    if (group.length > 0) regions.push(regionOf(group, shift));
    group = [];
  };
  for (const item of tagged) {
    const joins =
      group.length > 0 &&
      (item.hunk.aStart < groupEnd || group.some((member) => member.hunk.aStart === item.hunk.aStart));
    if (!joins) close();
    group.push(item);
    groupEnd = Math.max(group.length === 1 ? item.hunk.aEnd : groupEnd, item.hunk.aEnd);
  }
  close();
  return regions;
}

/** The region a group of hunks covers; `shift` carries each side's growth so far. */
function regionOf(group: readonly Tagged[], shift: { ours: number; theirs: number }): Region {
  const baseStart = Math.min(...group.map((item) => item.hunk.aStart));
  const baseEnd = Math.max(...group.map((item) => item.hunk.aEnd));
  const ours = group.filter((item) => item.side === "ours").map((item) => item.hunk);
  const theirs = group.filter((item) => item.side === "theirs").map((item) => item.hunk);
  const growth = (hunks: Hunk[]): number =>
    hunks.reduce((sum, hunk) => sum + (hunk.bEnd - hunk.bStart) - (hunk.aEnd - hunk.aStart), 0);
  const region: Region = {
    baseStart,
    baseEnd,
    oursStart: baseStart + shift.ours,
    oursEnd: baseEnd + shift.ours + growth(ours),
    theirsStart: baseStart + shift.theirs,
    theirsEnd: baseEnd + shift.theirs + growth(theirs),
    changedBy: ours.length === 0 ? "theirs" : theirs.length === 0 ? "ours" : "both",
    ours,
    theirs,
  };
  shift.ours += growth(ours);
  shift.theirs += growth(theirs);
  return region;
}
