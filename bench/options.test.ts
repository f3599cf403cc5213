import { describe, expect, test } from 'bun:test';
import { labelOf, parseOptions, UsageError, type PlatformScenario } from './options';

const own = (argv: string[]) => parseOptions(argv, '/out')!.scenarios as PlatformScenario[];

describe('bench options', () => {
  test('defaults: 25 connections for 10 s, one round of the own platform: compiled binary, in-memory backends, tracing off', () => {
    const options = parseOptions([], '/out')!;
    expect(options).toMatchObject({ concurrency: 25, durationS: 10, ceilingDurationS: 10, rounds: 1, clockSkewMs: 5000, outDir: '/out' });
    expect(options.scenarios).toEqual([{ kind: 'platform', artifact: 'binary', backends: 'memory', tracing: 'off', transport: 'http' }]);
  });

  test('lists multiply into every combination, in the order given', () => {
    expect(own(['--artifact', 'binary,node', '--tracing', 'off,on']).map((s) => `${s.artifact}/${s.tracing}`)).toEqual(['binary/off', 'binary/on', 'node/off', 'node/on']);
  });

  test('--transport http,grpc compares the two chains in one run', () => {
    expect(own(['--transport', 'http,grpc']).map((s) => s.transport)).toEqual(['http', 'grpc']);
    expect(() => parseOptions(['--transport', 'smtp'], '/out')).toThrow(new UsageError("--transport: 'smtp' is not one of http, grpc"));
  });

  test('--target: self, bare and URL edges become scenarios in the order given, each URL target with its own PIDs', () => {
    const options = parseOptions(
      ['--target', 'http://127.0.0.1:9090/api/greeting', '--target', 'self', '--target', 'main=http://127.0.0.1:8080/', '--target', 'bare', '--target-pids', '11,12', '--target-pids', 'a=21,b=22', '--rounds', '3'],
      '/out',
    )!;
    expect(options.rounds).toBe(3);
    expect(options.scenarios).toEqual([
      { kind: 'target', name: '127.0.0.1:9090', url: 'http://127.0.0.1:9090', processes: [{ name: 'pid 11', pid: 11 }, { name: 'pid 12', pid: 12 }] },
      { kind: 'platform', artifact: 'binary', backends: 'memory', tracing: 'off', transport: 'http' },
      { kind: 'target', name: 'main', url: 'http://127.0.0.1:8080', processes: [{ name: 'a', pid: 21 }, { name: 'b', pid: 22 }] },
      { kind: 'bare' },
    ]);
    expect(options.scenarios.map(labelOf)).toEqual(['target:127.0.0.1:9090', 'binary/memory/tracing-off/http', 'target:main', 'bare-bun']);
    expect(parseOptions(['--target', 'http://127.0.0.1:8080', '--target-pids', 'auto'], '/out')!.scenarios[0]).toMatchObject({ processes: 'auto' });
    // Without `self`, the own platform is not started at all.
    expect(parseOptions(['--target', 'http://127.0.0.1:1'], '/out')!.scenarios.map((s) => s.kind)).toEqual(['target']);
  });

  test('bad targets, PIDs and rounds are refused with the option named', () => {
    expect(() => parseOptions(['--target', 'nonsense'], '/out')).toThrow(/--target: 'nonsense' is not self, bare/);
    expect(() => parseOptions(['--target', 'ftp://x'], '/out')).toThrow(/not an http/);
    expect(() => parseOptions(['--target', 'http://127.0.0.1:1', '--target', 'http://127.0.0.1:1'], '/out')).toThrow(/given twice/);
    expect(() => parseOptions(['--target', 'http://127.0.0.1:1', '--target-pids', 'a=x'], '/out')).toThrow(/--target-pids: 'a=x'/);
    expect(() => parseOptions(['--target-pids', '1'], '/out')).toThrow(/1 given for 0 URL target/);
    expect(() => parseOptions(['--rounds', '0'], '/out')).toThrow(/--rounds/);
  });

  test('--ceiling-duration 0 skips the ceiling; --clock-skew is in seconds', () => {
    expect(parseOptions(['--ceiling-duration', '0', '--clock-skew', '0.5'], '/out')).toMatchObject({ ceilingDurationS: 0, clockSkewMs: 500 });
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
