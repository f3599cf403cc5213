/**
 * The embedded store of the default local run: greetings kept in process memory, one collection per database.collection.
 * Same contract as the MongoDB store (insert-once by id), so the local platform behaves like the real one.
 */
import { collectionName } from '../config/facts';
import type { StoreTarget } from '../config/schema';
import type { Greeting } from '../greeting';
import type { GreetingStore, InsertOutcome } from './types';

/**
 * How many greetings a collection remembers by id, refusing a second insert of any of them (a redelivery) as MongoDB's unique
 * index does. The embedded store is for watching the platform, not for keeping data: without a bound a long local run (or a
 * benchmark) would grow the process without end. A redelivery of a forgotten greeting would be stored again; real MongoDB,
 * with its unique index, never forgets.
 */
export const MEMORY_STORE_LIMIT = 10_000;

/** How many of the newest greetings a collection keeps whole, for a test or a debugger to read back (`greetings()`). */
export const MEMORY_STORE_KEPT = 100;

/**
 * The ids a collection remembers, in a ring: the oldest forgotten first, in O(1). Every greeting's id is a uuid (makeGreeting
 * makes them, and a consumer refuses a message whose id is not one), and a uuid in lower-case hex is kept as its 128 bits in a
 * typed array, found by 52 of them (the first word's and the last one's low 20, random in a v4 uuid), because greetings and
 * ids kept as objects and strings cost every request of a storing role about 4 µs (role G alone, CPU per request: 35.6
 * against 31.3 µs, builds loaded in alternation): ten thousand of each outlive the young generation and then die, which
 * makes the collector's work and the allocator's free lists worse for everything the process allocates. Any other id, and a
 * uuid whose 52 bits another remembered one already has, is kept as its string in a map, so the answer is exact.
 *
 * The 52 bits find their slot in an open-addressing table of slot numbers (linear probing; a forgotten id's entry is
 * removed by shifting its cluster back, so no tombstones accumulate): a Map of 10,000 numbers held 1.6 MB of the heap for
 * each collection, the table holds 128 KB. Its hash is seeded per window, so ids chosen to share a bucket (a message
 * published to the queue by anyone) cannot be lined up into one long probe.
 */
export class IdWindow {
  private readonly bits: Uint32Array;
  /** Slot + 1 of the uuid whose 52 bits hash here, 0 for none. */
  private readonly table: Int32Array;
  private readonly mask: number;
  private readonly seed = (Math.random() * 2 ** 32) >>> 0;
  private readonly byText = new Map<string, number>();
  /** The ids kept as strings, by slot. */
  private readonly texts = new Map<number, string>();
  /** How many slots hold an id: all of them once the window has filled. */
  private size = 0;
  private next = 0;
  /** The bits of the id parsed last. */
  private readonly scratch = new Uint32Array(4);

  constructor(private readonly limit: number) {
    this.bits = new Uint32Array(limit * 4);
    // At most half full: probes stay short.
    const capacity = 2 ** Math.ceil(Math.log2(Math.max(8, limit * 2)));
    this.table = new Int32Array(capacity);
    this.mask = capacity - 1;
  }

  has(id: string): boolean {
    return this.known(id, this.parse(id));
  }

  /** Remembers `id`, forgetting the oldest when the window is full; false, and nothing changes, when it is remembered already. */
  add(id: string): boolean {
    const uuid = this.parse(id);
    if (this.known(id, uuid)) return false;
    const slot = this.next;
    this.next = (slot + 1) % this.limit;
    if (this.size === this.limit) this.forget(slot);
    else this.size++;
    const free = uuid ? this.find(this.scratch[0]!, this.scratch[3]!) : 0;
    if (free < 0) {
      this.table[-free - 1] = slot + 1;
      this.bits.set(this.scratch, slot * 4);
    } else {
      this.byText.set(id, slot);
      this.texts.set(slot, id);
    }
    return true;
  }

  /** `uuid`: whether `parse` has just read the id's bits into `scratch`. */
  private known(id: string, uuid: boolean): boolean {
    if (uuid) {
      const at = this.find(this.scratch[0]!, this.scratch[3]!);
      if (at >= 0 && this.sameBits(this.table[at]! - 1)) return true;
    }
    return this.byText.size > 0 && this.byText.has(id);
  }

  private forget(slot: number): void {
    const text = this.texts.get(slot);
    if (text !== undefined) {
      this.byText.delete(text);
      this.texts.delete(slot);
    } else {
      const at = this.find(this.bits[slot * 4]!, this.bits[slot * 4 + 3]!);
      // Every remembered uuid is in the table; one that is not would mean the table lost it (and, left alone, filled up).
      if (at < 0) throw new Error(`IdWindow: the id in slot ${slot} is missing from its table`);
      this.remove(at);
    }
  }

  /** Where the uuid's 52 bits start probing. */
  private home(first: number, last: number): number {
    let h = Math.imul(first ^ this.seed, 0x9e3779b1) ^ Math.imul((last & 0xfffff) ^ (this.seed >>> 12), 0x85ebca6b);
    h ^= h >>> 15;
    return h & this.mask;
  }

  /**
   * The table index holding the uuid whose first word is `first` and whose last word's low 20 bits are those of `last`;
   * when none does, -1 - the free index where it would go.
   */
  private find(first: number, last: number): number {
    const { table, bits, mask } = this;
    for (let i = this.home(first, last); ; i = (i + 1) & mask) {
      const entry = table[i]!;
      if (entry === 0) return -1 - i;
      const at = (entry - 1) * 4;
      if (bits[at] === first && ((bits[at + 3]! ^ last) & 0xfffff) === 0) return i;
    }
  }

  /** Empties index `i`, moving back each later entry of its cluster that may take the place (so every probe still finds it). */
  private remove(i: number): void {
    const { table, bits, mask } = this;
    let hole = i;
    for (let j = (i + 1) & mask; table[j] !== 0; j = (j + 1) & mask) {
      const at = (table[j]! - 1) * 4;
      const home = this.home(bits[at]!, bits[at + 3]!);
      // The entry at j may move to the hole unless its home lies after the hole, up to j (cyclically).
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        table[hole] = table[j]!;
        hole = j;
      }
    }
    table[hole] = 0;
  }

  /** Reads a lower-case uuid's 128 bits into `scratch`; false for any other string. */
  private parse(id: string): boolean {
    if (id.length !== 36) return false;
    const out = this.scratch;
    let word = 0;
    let digits = 0;
    for (let i = 0; i < 36; i++) {
      const c = id.charCodeAt(i);
      if (i === 8 || i === 13 || i === 18 || i === 23) {
        if (c !== 45) return false;
        continue;
      }
      const v = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1;
      if (v < 0) return false;
      word = (word << 4) | v;
      if (++digits % 8 === 0) out[digits / 8 - 1] = word;
    }
    return true;
  }

  private sameBits(slot: number): boolean {
    const { bits, scratch } = this;
    const at = slot * 4;
    return bits[at] === scratch[0] && bits[at + 1] === scratch[1] && bits[at + 2] === scratch[2] && bits[at + 3] === scratch[3];
  }
}

/** One collection: the ids of its last `limit` greetings, and the newest of them whole. */
export class MemoryCollection {
  private readonly ids: IdWindow;
  private readonly kept: Greeting[] = [];
  private readonly keep: number;
  private next = 0;

  constructor(limit: number) {
    this.ids = new IdWindow(limit);
    this.keep = Math.min(limit, MEMORY_STORE_KEPT);
  }

  insert(greeting: Greeting): InsertOutcome {
    if (!this.ids.add(greeting.id)) return 'duplicate';
    if (this.kept.length < this.keep) this.kept.push(greeting);
    else {
      this.kept[this.next] = greeting;
      this.next = (this.next + 1) % this.keep;
    }
    return 'stored';
  }

  /** The greetings it keeps whole, oldest first. */
  greetings(): Greeting[] {
    return [...this.kept.slice(this.next), ...this.kept.slice(0, this.next)];
  }
}

export class MemoryStore implements GreetingStore {
  readonly kind = 'memory';
  /** By `database.collection`; readable, so the local platform's contents can be looked at (the tests do). */
  readonly collections = new Map<string, MemoryCollection>();

  constructor(private readonly limit = MEMORY_STORE_LIMIT) {}

  async connect(): Promise<void> {}

  async insert(target: StoreTarget, greeting: Greeting): Promise<InsertOutcome> {
    return this.collectionOf(target).insert(greeting);
  }

  /** A role passes the same target object on every insert: found by identity, without building and hashing its name each time. */
  private readonly byTarget = new WeakMap<StoreTarget, MemoryCollection>();

  private collectionOf(target: StoreTarget): MemoryCollection {
    let collection = this.byTarget.get(target);
    if (collection) return collection;
    const key = collectionName(target);
    collection = this.collections.get(key);
    if (!collection) this.collections.set(key, (collection = new MemoryCollection(this.limit)));
    this.byTarget.set(target, collection);
    return collection;
  }

  isReady(): boolean {
    return true;
  }

  async close(): Promise<void> {}
}
