/** One store insert as every role does it: traced when tracing is on, timed and counted by collection. Rethrows failures. */
import type { GreetingStore, InsertOutcome } from '../backends/types';
import type { StoreTarget } from '../config/schema';
import type { Greeting } from '../greeting';
import type { Metrics } from '../telemetry/metrics';
import { traceStoreOperation } from '../telemetry/spans';
import type { Tracing } from '../telemetry/tracing';

export async function insertGreeting(
  store: GreetingStore,
  target: StoreTarget,
  greeting: Greeting,
  metrics: Metrics,
  tracing?: Tracing,
): Promise<InsertOutcome> {
  const collection = `${target.database}.${target.collection}`;
  const started = performance.now();
  try {
    const outcome = await (tracing
      ? traceStoreOperation(tracing, store.kind, target, 'insert', () => store.insert(target, greeting))
      : store.insert(target, greeting));
    metrics.storeOperation(collection, 'insert', outcome === 'stored' ? 'ok' : 'duplicate', (performance.now() - started) / 1000);
    return outcome;
  } catch (err) {
    metrics.storeOperation(collection, 'insert', 'error', (performance.now() - started) / 1000);
    throw err;
  }
}
