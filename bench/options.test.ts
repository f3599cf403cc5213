import { describe, expect, test } from 'bun:test';
import { parseOptions, UsageError } from './options';

describe('bench options', () => {
  test('defaults: 25 connections for 10 s, one scenario on the compiled binary with in-memory backends, tracing off', () => {
    const options = parseOptions([], '/out')!;
    expect(options).toMatchObject({ concurrency: 25, durationS: 10, ceilingDurationS: 10, outDir: '/out' });
    expect(options.scenarios).toEqual([{ artifact: 'binary', backends: 'memory', tracing: 'off', transport: 'http' }]);
  });

  test('lists multiply into every combination, in the order given', () => {
    const options = parseOptions(['--artifact', 'binary,node', '--tracing', 'off,on'], '/out')!;
    expect(options.scenarios.map((s) => `${s.artifact}/${s.tracing}`)).toEqual(['binary/off', 'binary/on', 'node/off', 'node/on']);
  });

  test('--transport http,grpc compares the two chains in one run', () => {
    const options = parseOptions(['--transport', 'http,grpc'], '/out')!;
    expect(options.scenarios.map((s) => s.transport)).toEqual(['http', 'grpc']);
    expect(() => parseOptions(['--transport', 'smtp'], '/out')).toThrow(new UsageError("--transport: 'smtp' is not one of http, grpc"));
  });

  test('bad values are refused with the option named', () => {
    expect(() => parseOptions(['--artifact', 'jar'], '/out')).toThrow(new UsageError("--artifact: 'jar' is not one of binary, source, node"));
    expect(() => parseOptions(['--concurrency', '2.5'], '/out')).toThrow(/--concurrency/);
    expect(() => parseOptions(['--duration', '0'], '/out')).toThrow(/--duration/);
    expect(() => parseOptions(['--nope'], '/out')).toThrow(UsageError);
  });

  test('--help asks for the usage text', () => {
    expect(parseOptions(['--help'], '/out')).toBeUndefined();
  });
});
