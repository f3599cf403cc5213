/**
 * What a role does with the fate of each span batch: counts the spans (tracing_spans_exported_total) and, when the collector
 * refuses or cannot be reached, says so in the log. At most one line per minute: a collector that is down fails every batch,
 * about once a second per role, and the log must stay readable.
 */
import type { Logger } from './log';
import type { Metrics } from './metrics';
import type { ExportReport } from './tracing';

export const EXPORT_WARNING_INTERVAL_MS = 60_000;

export function reportExports(metrics: Metrics, log: Logger, now: () => number = Date.now): ExportReport {
  let lastWarning = -Infinity;
  let lostSinceWarning = 0;
  return (spans, error, exporter) => {
    metrics.spansExported(spans, error ? 'failed' : 'ok', exporter);
    if (!error) return;
    lostSinceWarning += spans;
    if (now() - lastWarning < EXPORT_WARNING_INTERVAL_MS) return;
    log.warn('spans not accepted by the trace collector', { lostSpans: lostSinceWarning, exporter, error });
    lastWarning = now();
    lostSinceWarning = 0;
  };
}
