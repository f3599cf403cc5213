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
 * typed array, found by 52 of them in a map of numbers, because greetings and ids kept as objects and strings cost every
 * request of a storing role about 4 µs (role G alone, CPU per request: 35.6 against 31.3 µs, builds loaded in alternation):
 * ten thousand of each outlive the young generation and then die, which makes the collector's work and the allocator's free
 * lists worse for everything the process allocates. Any other id, and a uuid whose 52 bits another remembered one already
 * has, is kept as its string in a second map, so the answer is exact.
 */
export class IdWindow {
  private readonly bits: Uint32Array;
  private readonly byKey = new Map<number, number>();
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
    if (uuid && !this.byKey.has(this.key())) {
      this.byKey.set(this.key(), slot);
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
      const slot = this.byKey.get(this.key());
      if (slot !== undefined && this.sameBits(slot)) return true;
    }
    return this.byText.size > 0 && this.byText.has(id);
  }

  private forget(slot: number): void {
    const text = this.texts.get(slot);
    if (text !== undefined) {
      this.byText.delete(text);
      this.texts.delete(slot);
    } else this.byKey.delete(IdWindow.keyOf(this.bits[slot * 4]!, this.bits[slot * 4 + 3]!));
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

  /** 52 of the bits, the first word's and the last one's low 20 (random in a v4 uuid; the version and variant are not). */
  private key(): number {
    return IdWindow.keyOf(this.scratch[0]!, this.scratch[3]!);
  }

  private static keyOf(first: number, last: number): number {
    return first * 0x100000 + (last & 0xfffff);
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
