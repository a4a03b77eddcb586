/**
 * Differences between two sequences (characters of a string, elements of an array) as
 * hunks: `a[aStart, aEnd)` was replaced by `b[bStart, bEnd)`. Common ends are trimmed first
 * (typing changes one place), then Myers' O(ND) algorithm finds the rest; past `maxCost`
 * edits it gives up on minimality and answers one hunk for the whole middle, which is
 * always correct and keeps the cost of a huge rewrite or paste bounded.
 */

export interface Hunk {
  aStart: number;
  aEnd: number;
  bStart: number;
  bEnd: number;
}

export type Equality<T> = (x: T, y: T) => boolean;

export function diffSequences<T>(a: readonly T[], b: readonly T[], same: Equality<T>, maxCost = 256): Hunk[] {
  let start = 0;
  while (start < a.length && start < b.length && same(a[start] as T, b[start] as T)) start++;
  let aEnd = a.length;
  let bEnd = b.length;
  while (aEnd > start && bEnd > start && same(a[aEnd - 1] as T, b[bEnd - 1] as T)) {
    aEnd--;
    bEnd--;
  }
  if (start === aEnd && start === bEnd) return [];
  const whole = [{ aStart: start, aEnd, bStart: start, bEnd }];
  if (start === aEnd || start === bEnd) return whole;
  const matches = myersMatches(a.slice(start, aEnd), b.slice(start, bEnd), same, maxCost);
  if (matches === null) return whole;
  return hunksBetween(matches, aEnd - start, bEnd - start).map((hunk) => ({
    aStart: hunk.aStart + start,
    aEnd: hunk.aEnd + start,
    bStart: hunk.bStart + start,
    bEnd: hunk.bEnd + start,
  }));
}

/** The matched index pairs of a shortest edit script, in order; null past maxCost edits. */
function myersMatches<T>(a: readonly T[], b: readonly T[], same: Equality<T>, maxCost: number): Array<[number, number]> | null {
  const n = a.length;
  const m = b.length;
  const limit = Math.min(n + m, maxCost);
  const offset = limit + 1;
  const v = new Int32Array(2 * limit + 3);
  const trace: Int32Array[] = [];
  for (let d = 0; d <= limit; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x =
        k === -d || (k !== d && (v[offset + k - 1] as number) < (v[offset + k + 1] as number))
          ? (v[offset + k + 1] as number)
          : (v[offset + k - 1] as number) + 1;
      let y = x - k;
      while (x < n && y < m && same(a[x] as T, b[y] as T)) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) return backtrack(trace, offset, n, m);
    }
  }
  return null;
}

function backtrack(trace: Int32Array[], offset: number, n: number, m: number): Array<[number, number]> {
  const matches: Array<[number, number]> = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d >= 0; d--) {
    const v = trace[d] as Int32Array;
    const k = x - y;
    const previousK =
      k === -d || (k !== d && (v[offset + k - 1] as number) < (v[offset + k + 1] as number)) ? k + 1 : k - 1;
    const previousX = d === 0 ? 0 : (v[offset + previousK] as number);
    const previousY = d === 0 ? 0 : previousX - previousK;
    while (x > previousX && y > previousY) {
      x--;
      y--;
      matches.push([x, y]);
    }
    x = previousX;
    y = previousY;
  }
  return matches.reverse();
}

function hunksBetween(matches: Array<[number, number]>, n: number, m: number): Hunk[] {
  const hunks: Hunk[] = [];
  let a = 0;
  let b = 0;
  for (const [x, y] of [...matches, [n, m] as [number, number]]) {
    if (x > a || y > b) hunks.push({ aStart: a, aEnd: x, bStart: b, bEnd: y });
    a = x + 1;
    b = y + 1;
  }
  return hunks;
}
