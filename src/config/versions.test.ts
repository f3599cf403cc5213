/**
 * Versions of a role: declared in the config by what each changes, checked by the validator, and picked by a process through
 * SERVICE_VERSION (a pod's `version` label), which must name one of them.
 */
import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { readEnv } from './env';
import { deploymentName, identityName, localGrpcPort, roleVersions, versionFacts, versionedRoles } from './facts';
import { resolveRole } from './settings';
import { ConfigError } from './config-error';
import { validateConfig } from './validate';

const FILE = 'config/services.json';
const raw = () => JSON.parse(readFileSync(FILE, 'utf8'));

function problemsOf(config: unknown) {
  try {
    validateConfig(config, FILE);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('config was accepted');
}

function refusal(run: () => unknown): ConfigError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('accepted');
}

describe('versions in the config', () => {
  test('the shipped config runs two versions of E (v2 slower) and of H (v2 greets otherwise), one of every other role', () => {
    const config = validateConfig(raw(), FILE);
    expect(versionedRoles(config)).toEqual(['e', 'h']);
    expect(roleVersions(config, 'h')).toEqual(['v1', 'v2']);
    expect(roleVersions(config, 'c')).toEqual(['v1']);
    const h2 = versionFacts(config, 'h', 'v2');
    expect(h2.greeting).not.toBe(config.services.h!.greeting);
    expect(versionFacts(config, 'e', 'v2').chaos).toEqual({ latencyMs: 300, errorRate: 0 });
    expect(versionFacts(config, 'e', 'v1').chaos).toEqual({ latencyMs: 0, errorRate: 0 });
  });

  test('a version changes only what it names: greeting, chaos field by field, replicas, port (derived by 100s when unset)', () => {
    const r = raw();
    r.services.g.chaos = { latencyMs: 5, errorRate: 0.5 };
    r.services.g.versions = { v2: { chaos: { latencyMs: 40 } }, v3: { greeting: 'Three', replicas: 0, port: 9999, tag: '1.2.3' } };
    const config = validateConfig(r, FILE);
    expect(versionFacts(config, 'g', 'v2')).toMatchObject({ greeting: r.services.g.greeting, chaos: { latencyMs: 40, errorRate: 0.5 }, replicas: 2, port: 8186, isDefault: false });
    expect(versionFacts(config, 'g', 'v3')).toMatchObject({ greeting: 'Three', replicas: 0, port: 9999, tag: '1.2.3' });
    expect(versionFacts(config, 'g')).toMatchObject({ version: 'v1', isDefault: true, port: 8086, chaos: { latencyMs: 5, errorRate: 0.5 } });
    expect(localGrpcPort(config, 'g', 'v3')).toBe(19999);
  });

  test('each version is a Deployment service-<id>-<version>; the default keeps the role identity, the others get their own', () => {
    const config = validateConfig(raw(), FILE);
    expect(deploymentName('h', 'v1')).toBe('service-h-v1');
    expect(identityName(config, 'h', 'v1')).toBe('service-h');
    expect(identityName(config, 'h', 'v2')).toBe('service-h-v2');
  });

  test('a field that is the role\'s (upstreams) is refused at its path, naming what a version may set', () => {
    const r = raw();
    r.services.h.versions.v2.upstreams = ['g'];
    const [problem, ...rest] = problemsOf(r);
    expect(rest).toEqual([]);
    expect(problem!.path).toBe('/services/h/versions/v2/upstreams');
    expect(problem!.reason).toBe("'upstreams' is the role's, the same in all its versions: a version may set only greeting, chaos, replicas, resources, tag, port");
  });

  test('a version named like the default, or not a DNS label (so not a subset or object name), is refused', () => {
    const dup = raw();
    dup.services.h.versions.v1 = { greeting: 'again' };
    expect(problemsOf(dup)).toEqual([
      { file: FILE, path: '/services/h/versions/v1', reason: "'v1' is this role's default version, described by the role's own fields: list only its other versions here" },
    ]);
    for (const name of ['V2', '2', 'v2.1', 'v_2', 'v2-', 'x'.repeat(31)]) {
      const bad = raw();
      bad.services.h.versions = { [name]: {} };
      expect({ name, paths: problemsOf(bad).map((p) => p.path) }).toEqual({ name, paths: [`/services/h/versions/${name}`] });
    }
  });

  test("a version's port may not be another listener's, its derived gRPC port included", () => {
    const r = raw();
    r.services.h.versions.v2.port = 8080;
    expect(problemsOf(r)).toEqual([{ file: FILE, path: '/services/h/versions/v2/port', reason: "port 8080 is already used by role 'a'" }]);
    const grpc = raw();
    grpc.services.h.versions.v2.port = 8090;
    grpc.services.c.port = 18090;
    expect(problemsOf(grpc)).toEqual([{ file: FILE, path: '/services/h/versions/v2/port', reason: "gRPC port 18090 is already used by role 'c'" }]);
  });
});

describe('SERVICE_VERSION picks the version a process runs', () => {
  const config = validateConfig(raw(), FILE);
  const resolve = (id: string, env: Record<string, string>) => resolveRole(config, id, readEnv(env));

  test('unset: the default version; set: that version, with its greeting, chaos and port', () => {
    expect(resolve('h', {})).toMatchObject({ version: 'v1', greeting: config.services.h!.greeting, port: 8087 });
    expect(resolve('h', { SERVICE_VERSION: 'v2' })).toMatchObject({ version: 'v2', greeting: 'Xin chào, from Service H v2!', port: 8187 });
    expect(resolve('e', { SERVICE_VERSION: 'v2' }).chaos).toEqual({ latencyMs: 300, errorRate: 0 });
  });

  test('the environment still wins over the version (GREETING, CHAOS_LATENCY_MS, PORT)', () => {
    expect(resolve('e', { SERVICE_VERSION: 'v2', CHAOS_LATENCY_MS: '0', GREETING: 'Hi', PORT: '9000' })).toMatchObject({
      chaos: { latencyMs: 0, errorRate: 0 },
      greeting: 'Hi',
      port: 9000,
    });
  });

  test('a version the role does not declare is refused, naming the variable and the versions there are', () => {
    const error = refusal(() => resolve('h', { SERVICE_VERSION: 'v3' }));
    expect(error.problems).toEqual([{ file: 'environment', path: 'SERVICE_VERSION', reason: "'v3' is not a version of role 'h': the config declares v1, v2" }]);
  });

  test('a role that declares no versions reports whatever its label says, as before versions existed', () => {
    expect(resolve('c', { SERVICE_VERSION: 'canary' })).toMatchObject({ version: 'canary', greeting: config.services.c!.greeting, port: 8082 });
  });
});
