/**
 * The OTLP/HTTP (protobuf) span exporter, @opentelemetry/exporter-trace-otlp-proto. tracing.ts loads this file on first use
 * only (a `require`), so a role that does not export over OTLP never evaluates the exporter's modules (the transformer, the
 * exporter base and their protobuf code): measured, 23 ms and 4 MB from source, 1 MB in the compiled binary. What it is
 * given comes from config/otel-env.ts, which read and checked the OTEL_EXPORTER_OTLP_* variables; passed in explicitly,
 * those values win over the exporter's own reading of the same variables.
 */
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { OtlpSettings } from '../config/otel-env';

/** The traces URL itself, the headers sent with every export (typically a collector's token: never logged), timeout, compression. */
export type OtlpOptions = OtlpSettings;

export function otlpExporter(options: OtlpOptions): SpanExporter {
  return new OTLPTraceExporter({
    url: options.url,
    headers: options.headers,
    ...(options.timeoutMs !== undefined && { timeoutMillis: options.timeoutMs }),
    // Typed there as its CompressionAlgorithm enum, whose values are exactly these two strings.
    ...(options.compression && { compression: options.compression as never }),
  });
}
