/**
 * One JSON line per event on stdout: time, level, msg, role, and while a request is handled its x-request-id, trace id and
 * span id (taken from the request context, so call sites never pass them). Whole requests are never dumped.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { LogLevel } from '../config/env';
import { incomingTrace } from './incoming-trace';
import { writeStdout } from './stdout';

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface RequestContext {
  requestId?: string;
  traceId?: string;
  spanId?: string;
  /**
   * The trace this work is recorded in, when a collector has it: the SERVER (or CONSUMER) span's when sampled, or untraced, the
   * caller's unless it said "not sampled". What an exemplar may point at; the trace id alone may name a trace nobody kept.
   */
  recordedTrace?: string;
}

/** The log context of untraced work: the caller's ids (B3, else traceparent) when it sent them (an Envoy sidecar's, typically). */
export function contextFromHeaders(requestId: string | undefined, get: (name: string) => string | null | undefined): RequestContext {
  const incoming = incomingTrace(get);
  if (!incoming) return { requestId };
  const ctx: RequestContext = { requestId, traceId: incoming.traceId, spanId: incoming.spanId };
  if (!incoming.notSampled) ctx.recordedTrace = incoming.traceId;
  return ctx;
}

/** The context of the request being handled; async work started inside a handler sees it too. */
export const requestContext = new AsyncLocalStorage<RequestContext>();

export type Fields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
}

export type LineWriter = (line: string) => void;

/**
 * Warnings and errors that repeat, the same message with the same fields (a dead upstream fails every request, at every hop),
 * are written once per window; the repeats are counted and summed up in one line when the window ends. Without this a
 * failing upstream wrote one line per request per hop: megabytes a minute under load, the one useful line buried.
 */
export const REPEAT_WINDOW_MS = 10_000;
/** Distinct repeating lines tracked per window; beyond that, lines are written as they come. */
const MAX_TRACKED = 1_000;

export interface LoggerOptions {
  write?: LineWriter;
  repeatWindowMs?: number;
}

export function createLogger(role: string, level: LogLevel, writeOrOptions: LineWriter | LoggerOptions = {}): Logger {
  const { write = writeStdout, repeatWindowMs = REPEAT_WINDOW_MS } = typeof writeOrOptions === 'function' ? { write: writeOrOptions } : writeOrOptions;
  const min = ORDER[level];
  /** Lines written this window, by what they say, and how often they were held back since. */
  const repeats = new Map<string, { line: Fields; held: number }>();
  let window: ReturnType<typeof setInterval> | undefined;
  const summarise = () => {
    for (const { line, held } of repeats.values())
      if (held > 0) write(JSON.stringify({ ...line, time: new Date().toISOString(), repeated: held, windowSeconds: repeatWindowMs / 1000 }));
    repeats.clear();
    if (window) clearInterval(window);
    window = undefined;
  };

  const emit = (lvl: LogLevel, msg: string, fields?: Fields) => {
    if (ORDER[lvl] < min) return;
    const body: Fields = { level: lvl, msg, role };
    if (fields) for (const [k, v] of Object.entries(fields)) body[k] = v instanceof Error ? v.message : v;
    const ctx = requestContext.getStore();
    const context: Fields = {};
    if (ctx?.requestId) context.requestId = ctx.requestId;
    if (ctx?.traceId) context.traceId = ctx.traceId;
    if (ctx?.spanId) context.spanId = ctx.spanId;
    const line = { time: new Date().toISOString(), ...body, ...context };
    if (ORDER[lvl] >= ORDER.warn && repeatWindowMs > 0) {
      // The request and trace ids differ on every line and are left out of what makes two lines the same.
      const key = JSON.stringify(body);
      const seen = repeats.get(key);
      if (seen) {
        seen.held++;
        return;
      }
      if (repeats.size < MAX_TRACKED) repeats.set(key, { line: body, held: 0 });
      if (!window) {
        window = setInterval(summarise, repeatWindowMs);
        window.unref?.();
      }
    }
    write(JSON.stringify(line));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}
