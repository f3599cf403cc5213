/**
 * Inserts that arrive in the same turn of the event loop go to the server as one `insertMany`. Under load a storing role
 * receives many requests per turn; one round trip (and, on FerretDB, one SQLite transaction) for all of them costs the role
 * and the server a fraction of one per greeting, and adds no waiting: the batch leaves at the end of the turn it was filled
 * in, or at once when it is full. Each caller still learns its own greeting's fate: stored, duplicate (the unique index
 * refused it: a redelivery) or the error.
 */
import type { InsertOutcome } from './types';

interface Pending<T> {
  doc: T;
  settle: (outcome: InsertOutcome | Error) => void;
}

/** What a batch write reports: per document, stored, duplicate or why it failed (`all` when the whole write failed). */
export type BatchResult = { failedAll: Error } | { perDocument: (InsertOutcome | Error)[] };

export class InsertBatcher<T> {
  private pending: Pending<T>[] = [];
  private scheduled = false;

  constructor(
    private readonly write: (docs: T[]) => Promise<BatchResult>,
    private readonly maxBatch = 256,
  ) {}

  insert(doc: T): Promise<InsertOutcome> {
    return new Promise<InsertOutcome>((resolve, reject) => {
      this.pending.push({ doc, settle: (o) => (o instanceof Error ? reject(o) : resolve(o)) });
      if (this.pending.length >= this.maxBatch) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    this.write(batch.map((p) => p.doc)).then(
      (result) => {
        if ('failedAll' in result) for (const p of batch) p.settle(result.failedAll);
        else batch.forEach((p, i) => p.settle(result.perDocument[i]!));
      },
      (err: unknown) => {
        for (const p of batch) p.settle(err instanceof Error ? err : new Error(String(err)));
      },
    );
  }
}
