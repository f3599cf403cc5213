/**
 * Series bound to one label set, for the hot path: a request, an upstream call and a store operation are each recorded on
 * every hop. A child of prom-client's `labels()` keeps only the label object: every `inc()` or `observe()` checks it against
 * the label names and hashes it again (prom-client 15: `validateLabel`, `hashObject`), about 0.2 µs per counter and 0.35 µs
 * per histogram here. A bound series lets prom-client make its first observation (so the series' entry in the metric's table
 * is created the library's own way), finds that entry once, and from then on adds to it in place: the exposition reads the
 * same table, so what a scrape shows does not change. Whenever the metric no longer holds that entry (a reset, a removal),
 * the next observation goes through prom-client again and the entry is found anew, so nothing is counted into a dropped one.
 */
import type { Counter, Histogram } from './prom';

/** A series' entry in a prom-client metric's table, as prom-client 15 keeps it (lib/counter.js, lib/histogram.js). */
interface CounterEntry {
  labels: object;
  value: number;
}
interface ExemplarLike {
  labelSet: Record<string, string>;
  value: number;
  timestamp?: number;
}
interface HistogramEntry {
  labels: object;
  sum: number;
  count: number;
  /** By upper bound, as the property key a number becomes: `0.005` is `'0.005'`. */
  bucketValues: Record<string, number>;
  bucketExemplars?: Record<string, ExemplarLike | null | undefined>;
}
interface Table<E> {
  hashMap: Record<string, E>;
}

/** The entry prom-client made for exactly this label object (it keeps the object it was given), and its key. */
function find<E extends { labels: object }>(table: Table<E>, labels: object): { key: string; entry: E } | undefined {
  for (const key in table.hashMap) if (table.hashMap[key]!.labels === labels) return { key, entry: table.hashMap[key]! };
  return undefined;
}

export interface BoundCounter {
  inc(): void;
}

export function bindCounter<T extends string>(counter: Counter<T>, labels: Record<T, string>): BoundCounter {
  // The first increment is prom-client's own, which checks the label names (an unknown one throws there).
  const child = counter.labels(labels);
  const table = counter as unknown as Table<CounterEntry>;
  let bound: { key: string; entry: CounterEntry } | undefined;
  return {
    inc() {
      if (bound && table.hashMap[bound.key] === bound.entry) {
        bound.entry.value += 1;
        return;
      }
      child.inc();
      bound = find(table, labels);
    },
  };
}

export interface BoundHistogram {
  /** `exemplar`: the labels of the bucket's exemplar (OpenMetrics), when this observation should be it. */
  observe(value: number, exemplar?: Record<string, string>): void;
}

/** What prom-client's histogram adds to the public type: its bounds and its exemplar update. */
interface HistogramInternals {
  upperBounds: readonly number[];
  updateExemplar(labels: object, value: number, exemplarLabels: Record<string, string>): void;
}

/**
 * prom-client's Exemplar.validateExemplarLabelSet, without the array of entries it builds for each call (a traced request
 * replaces an exemplar at every observation): names and values together may not pass 128 characters.
 */
function checkExemplarLabels(labels: Record<string, string>): void {
  let size = 0;
  for (const name in labels) size += name.length + String(labels[name]).length;
  if (size > 128) throw new RangeError('Label set size must be smaller than 128 UTF-8 chars');
}

export function bindHistogram<T extends string>(histogram: Histogram<T>, labels: Record<T, string>): BoundHistogram {
  // labels() checks the names: an unknown label throws here, where the series is bound.
  const child = histogram.labels(labels);
  const table = histogram as unknown as Table<HistogramEntry>;
  const internals = histogram as unknown as HistogramInternals;
  const { upperBounds } = internals;
  // prom-client keys a bucket by its bound, a number, and JavaScript turns a number that is not an integer into its decimal
  // text on every such lookup (about 0.12 µs each here): the keys are made once, the same text String() gives. Above every
  // bound, prom-client's findBound says -1, and an exemplar there is kept under '-1'.
  const bucketKeys = upperBounds.map(String);
  const ABOVE = '-1';
  let bound: { key: string; entry: HistogramEntry } | undefined;
  /** The bucket a value counts in, as prom-client's findBound says it: the first bound at or above it, -1 above them all. */
  const bucketOf = (value: number) => {
    for (let i = 0; i < upperBounds.length; i++) if (value <= upperBounds[i]!) return bucketKeys[i]!;
    return ABOVE;
  };
  return {
    observe(value, exemplar) {
      // A value that is not a finite number goes to prom-client too, which refuses it (TypeError) as it always has.
      if (!bound || table.hashMap[bound.key] !== bound.entry || !Number.isFinite(value)) {
        child.observe(value);
        bound = find(table, labels);
        if (exemplar) internals.updateExemplar(labels, value, exemplar);
        return;
      }
      const { entry } = bound;
      const bucket = bucketOf(value);
      entry.sum += value;
      entry.count += 1;
      if (bucket !== ABOVE) entry.bucketValues[bucket]! += 1;
      if (!exemplar) return;
      const held = entry.bucketExemplars?.[bucket];
      // The bucket's first exemplar is made by prom-client; later ones replace its fields, as prom-client's update does.
      if (!held) return internals.updateExemplar(labels, value, exemplar);
      checkExemplarLabels(exemplar);
      held.labelSet = exemplar;
      held.value = value;
      held.timestamp = Date.now() / 1000;
    },
  };
}
