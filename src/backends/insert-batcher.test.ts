import { expect, test } from 'bun:test';
import { InsertBatcher, type BatchResult } from './insert-batcher';

function recording(result: (docs: number[]) => BatchResult = (docs) => ({ perDocument: docs.map(() => 'stored' as const) })) {
  const writes: number[][] = [];
  const batcher = new InsertBatcher<number>(async (docs) => (writes.push(docs), result(docs)), 4);
  return { writes, batcher };
}

test('inserts of one turn go out as one write; a full batch goes at once; the next turn starts a new one', async () => {
  const { writes, batcher } = recording();
  const first = [1, 2, 3, 4, 5, 6].map((n) => batcher.insert(n));
  expect(writes).toEqual([[1, 2, 3, 4]]);
  expect(await Promise.all(first)).toEqual(['stored', 'stored', 'stored', 'stored', 'stored', 'stored']);
  expect(writes).toEqual([[1, 2, 3, 4], [5, 6]]);
  await batcher.insert(7);
  expect(writes).toEqual([[1, 2, 3, 4], [5, 6], [7]]);
});

test('each caller gets its own document\'s outcome: stored, duplicate, or the error; a failed write fails them all', async () => {
  const { batcher } = recording((docs) => ({ perDocument: docs.map((d) => (d === 2 ? 'duplicate' : d === 3 ? new Error('refused') : 'stored')) }));
  const outcomes = await Promise.allSettled([1, 2, 3].map((n) => batcher.insert(n)));
  expect(outcomes.map((o) => (o.status === 'fulfilled' ? o.value : (o.reason as Error).message))).toEqual(['stored', 'duplicate', 'refused']);
  const down = recording(() => ({ failedAll: new Error('server down') })).batcher;
  const all = await Promise.allSettled([1, 2].map((n) => down.insert(n)));
  expect(all.map((o) => o.status === 'rejected' && (o.reason as Error).message)).toEqual(['server down', 'server down']);
});
