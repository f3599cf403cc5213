/**
 * One JSON line per event on stdout: time, level, msg, role, and while a request is handled its x-request-id, trace id and
 * span id (taken from the request context, so call sites never pass them). Whole requests are never dumped.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { LogLevel } from '../config/env';

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface RequestContext {
  requestId?: string;
  traceId?: string;
  spanId?: string;
}

/** The log context of untraced work: the caller's B3 ids when it sent them (an Envoy sidecar's, typically). */
export function contextFromB3(requestId: string | undefined, get: (name: string) => string | null | undefined): RequestContext {
  const traceId = get('x-b3-traceid');
  return traceId ? { requestId, traceId, spanId: get('x-b3-spanid') ?? undefined } : { requestId };
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

const stdout: LineWriter = (line) => process.stdout.write(line + '\n');

export function createLogger(role: string, level: LogLevel, write: LineWriter = stdout): Logger {
  const min = ORDER[level];
  const emit = (lvl: LogLevel, msg: string, fields?: Fields) => {
    if (ORDER[lvl] < min) return;
    const ctx = requestContext.getStore();
    const line: Fields = { time: new Date().toISOString(), level: lvl, msg, role };
    if (ctx?.requestId) line.requestId = ctx.requestId;
    if (ctx?.traceId) line.traceId = ctx.traceId;
    if (ctx?.spanId) line.spanId = ctx.spanId;
    if (fields) for (const [k, v] of Object.entries(fields)) line[k] = v instanceof Error ? v.message : v;
    write(JSON.stringify(line));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}
