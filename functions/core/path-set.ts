/**
 * A set of file paths held compactly, for what an export remembers per file it wrote (StoreSink:
 * "was this path written?", "closed before?"). A JavaScript Set of the path strings costs ≈ 100
 * bytes a path with the strings, and per-file formats write one file per task, so their memory grew
 * with the task count. Here a path costs its characters plus ≈ 25 bytes (YOLO at 100,000 tasks:
 * 30 -> 24 MB of live heap, with StoreSink's closed-file list dropped for the CLI):
 *  - the paths are packed, in order of first addition, into pool strings of POOL_PATHS paths each
 *    (the last pool is kept as a list until it is full, then joined once);
 *  - per path, typed arrays hold its start in its pool, its length, its hash and two flags
 *    (`deleted`, and one free bit for the caller: `mark`);
 *  - an open-addressing table of indices, probed linearly by a 32-bit FNV-1a hash of the UTF-16
 *    units, finds a path; a candidate is compared with the pooled text, so the answer is exact.
 * A deleted path keeps its slot and index (its flag is cleared when it is added again).
 */

/** Paths per pool string. */
const POOL_PATHS = 1024;
const DELETED = 1;
const MARKED = 2;

/** FNV-1a over the string's UTF-16 units (32 bits); exported for the tests' colliding paths. */
export function hashOf(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h | 0;
}

export class PathSet {
  #pools: string[] = [];
  #pending: string[] = [];
  #pendingUnits = 0;
  #starts = new Int32Array(64);
  #lengths = new Int32Array(64);
  #hashes = new Int32Array(64);
  #flags = new Uint8Array(64);
  /** Slot → path index + 1 (0: empty); its length is a power of two, at most half full. */
  #table = new Int32Array(128);
  /** Paths ever added (deleted ones included). */
  #count = 0;
  #size = 0;

  /** Paths in the set (deleted ones not counted). */
  get size(): number {
    return this.#size;
  }

  has(path: string): boolean {
    const i = this.#find(path, hashOf(path));
    return i >= 0 && (this.#flags[i] & DELETED) === 0;
  }

  /** Adds `path`; true when it was not in the set. */
  add(path: string): boolean {
    const hash = hashOf(path);
    const i = this.#find(path, hash);
    if (i >= 0) {
      if ((this.#flags[i] & DELETED) === 0) return false;
      this.#flags[i] &= ~DELETED;
      this.#size++;
      return true;
    }
    this.#append(path, hash);
    return true;
  }

  /** Removes `path`; true when it was in the set. Its mark stays for when it is added again. */
  delete(path: string): boolean {
    const i = this.#find(path, hashOf(path));
    if (i < 0 || this.#flags[i] & DELETED) return false;
    this.#flags[i] |= DELETED;
    this.#size--;
    return true;
  }

  /**
   * Marks `path` (adding it when absent); true when it was never marked before. A mark outlives
   * the path's deletion (StoreSink: "closed at least once").
   */
  mark(path: string): boolean {
    const hash = hashOf(path);
    let i = this.#find(path, hash);
    if (i < 0) {
      this.#append(path, hash);
      i = this.#count - 1;
    } else if (this.#flags[i] & DELETED) {
      this.#flags[i] &= ~DELETED;
      this.#size++;
    }
    if (this.#flags[i] & MARKED) return false;
    this.#flags[i] |= MARKED;
    return true;
  }

  /** The index of `path` (deleted or not), or -1. */
  #find(path: string, hash: number): number {
    const table = this.#table;
    const mask = table.length - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const entry = table[slot];
      if (entry === 0) return -1;
      const i = entry - 1;
      if (this.#hashes[i] === hash && this.#lengths[i] === path.length && this.#textIs(i, path)) return i;
    }
  }

  /** Whether path index `i` holds `path` (same length checked by the caller). */
  #textIs(i: number, path: string): boolean {
    const pool = Math.floor(i / POOL_PATHS);
    if (pool === this.#pools.length) return this.#pending[i % POOL_PATHS] === path;
    return this.#pools[pool].startsWith(path, this.#starts[i]);
  }

  #append(path: string, hash: number): void {
    const i = this.#count++;
    if (i === this.#starts.length) this.#grow();
    this.#starts[i] = this.#pendingUnits;
    this.#lengths[i] = path.length;
    this.#hashes[i] = hash;
    this.#flags[i] = 0;
    this.#pending.push(path);
    this.#pendingUnits += path.length;
    if (this.#pending.length === POOL_PATHS) {
      this.#pools.push(this.#pending.join(''));
      this.#pending = [];
      this.#pendingUnits = 0;
    }
    this.#size++;
    if (this.#count * 2 > this.#table.length) this.#rehash(this.#table.length * 2);
    else this.#place(i);
  }

  #place(i: number): void {
    const table = this.#table;
    const mask = table.length - 1;
    let slot = this.#hashes[i] & mask;
    while (table[slot] !== 0) slot = (slot + 1) & mask;
    table[slot] = i + 1;
  }

  #rehash(slots: number): void {
    this.#table = new Int32Array(slots);
    for (let i = 0; i < this.#count; i++) this.#place(i);
  }

  #grow(): void {
    const n = this.#starts.length * 2;
    const grown = <T extends Int32Array | Uint8Array>(a: T, b: T): T => {
      b.set(a);
      return b;
    };
    this.#starts = grown(this.#starts, new Int32Array(n));
    this.#lengths = grown(this.#lengths, new Int32Array(n));
    this.#hashes = grown(this.#hashes, new Int32Array(n));
    this.#flags = grown(this.#flags, new Uint8Array(n));
  }
}
