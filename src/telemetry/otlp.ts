/**
 * The OTLP/HTTP (protobuf) span exporter, @opentelemetry/exporter-trace-otlp-proto, loaded on first use: only a role that
 * exports over OTLP pays for its modules (the transformer, the exporter base and their protobuf code) in start-up time and
 * memory. What it is given comes from config/env.ts, which read and checked the OTEL_EXPORTER_OTLP_* variables; passed in
 * explicitly, those values win over the exporter's own reading of the same variables.
 */
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import type * as OtlpModule from '@opentelemetry/exporter-trace-otlp-proto';
import type { OtlpSettings } from '../config/otel-env';

/** The traces URL itself, the headers sent with every export (typically a collector's token: never logged), timeout, compression. */
export type OtlpOptions = OtlpSettings;

export function otlpExporter(options: OtlpOptions): SpanExporter {
  // `require` keeps createTracing synchronous; Bun's compiled binary and the Node bundle both resolve it to what they bundle.
  const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto') as typeof OtlpModule;
  return new OTLPTraceExporter({
    url: options.url,
    headers: options.headers,
    ...(options.timeoutMs !== undefined && { timeoutMillis: options.timeoutMs }),
    // Typed there as its CompressionAlgorithm enum, whose values are exactly these two strings.
    ...(options.compression && { compression: options.compression as never }),
  });
}
