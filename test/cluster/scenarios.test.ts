/**
 * The scenario catalogue: the render writes exactly the scenarios the config implies (no more, no fewer, and none left from
 * an older config), every file says what the catalogue says it does, and what the real tools cannot judge holds for every
 * scenario of both flavours: percentages summing to 100, routes to subsets that exist and pods that carry them, header
 * matches on the header the roles forward, HTTPRoute backends that are Services of their role. Each of those checks is shown
 * failing on a seeded defect. (The gate, `npm run verify:cluster`, puts every scenario through kube-apiserver and istioctl.)
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/settings';
import { ROUTING_HEADER } from '../../src/serving/routing-headers';
import type { CatalogueIndex, IndexedFlavour } from '../../scripts/render/scenario-index';
import { ROOT, kustomize, kustomizeWith, named, parseYamlStream, type K8sObject } from './manifests';
import { backendProblems, headerProblems, scenarioProblems, subsetProblems, weightProblems } from './scenario-checks';

const { config } = loadConfig();
const ids = Object.keys(config.services);
const SCENARIOS = 'deploy/istio/scenarios';
const GATEWAY_SCENARIOS = 'deploy/components/gateway-api/scenarios';
const catalogue = (root = ROOT): CatalogueIndex => JSON.parse(readFileSync(join(root, SCENARIOS, 'scenarios.json'), 'utf8'));
const read = (path: string, root = ROOT) => parseYamlStream(readFileSync(join(root, path), 'utf8'));
const versionsOf = (id: string) => [config.services[id]!.version ?? config.defaults.version, ...Object.keys(config.services[id]!.versions ?? {})];

const scratch = mkdtempSync(join(tmpdir(), 'scenarios-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Renders a changed config into a copy of deploy/ and returns that copy's root. */
function renderWith(name: string, edit: (raw: any) => void): string {
  const root = join(scratch, name);
  cpSync(join(ROOT, 'deploy'), join(root, 'deploy'), { recursive: true });
  const raw = JSON.parse(readFileSync(join(ROOT, 'config/services.json'), 'utf8'));
  edit(raw);
  writeFileSync(join(root, 'services.json'), JSON.stringify(raw));
  const result = spawnSync(process.execPath, [join(ROOT, 'scripts/render/main.ts'), '--config', join(root, 'services.json'), '--out', root], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(result.stderr);
  return root;
}

describe('the catalogue the render writes', () => {
  test('for the shipped config: the routing scenarios of E and H, the faults on the deepest hops, a denial per version and upstream', () => {
    const routing = ids.flatMap((id) =>
      versionsOf(id)
        .slice(1)
        .flatMap((v) => [`${id}-${v}`, ...['90-10', '80-20', '50-50', '20-80'].map((w) => `canary-${id}-${w}`), `dark-launch-${id}-${v}`]),
    );
    const denials = ids.flatMap((id) => versionsOf(id).slice(1).flatMap((v) => config.services[id]!.upstreams.map((up) => `deny-${id}-${v}-to-${up}`)));
    // H and G are the deepest roles (A -> B -> E -> G, H): the delay where every caller waits, the abort beside it; E calls H.
    const faults = ['delay-h', 'abort-g', 'timeout-e', 'retries-e', 'circuit-breaker-e'];
    expect(catalogue().scenarios.map((s) => s.id)).toEqual(['all-v1', ...routing, ...faults, ...denials]);
  });

  test('the files in the scenario directories are exactly the catalogue\'s, its index and its README', () => {
    const files = catalogue().scenarios.flatMap((s) => [s.istio.file, ...('cannot' in s.gatewayApi ? [] : [s.gatewayApi.file])]);
    const onDisk = [SCENARIOS, GATEWAY_SCENARIOS].flatMap((dir) => readdirSync(join(ROOT, dir)).map((f) => `${dir}/${f}`));
    expect(onDisk.sort()).toEqual([...new Set([...files, `${SCENARIOS}/scenarios.json`, `${SCENARIOS}/README.md`])].sort());
  });

  test('a role without extra versions gets no routing scenarios: with none in the config, all-v1, the faults, and no leftovers', () => {
    const root = renderWith('no-versions', (raw) => {
      for (const role of Object.values<any>(raw.services)) delete role.versions;
    });
    expect(catalogue(root).scenarios.map((s) => s.id)).toEqual(['all-v1', 'delay-h', 'abort-g', 'timeout-e', 'retries-e', 'circuit-breaker-e']);
    expect(readdirSync(join(root, SCENARIOS)).sort()).toEqual(
      ['README.md', 'scenarios.json', 'destination-rule-e-circuit-breaker.yaml', 'virtual-service-all-v1.yaml', 'virtual-service-e-retries.yaml', 'virtual-service-e-timeout.yaml', 'virtual-service-g-test-abort.yaml', 'virtual-service-h-test-delay.yaml'].sort(),
    );
  });

  test('a third version names its version in the canary ids and files, and splits from the default version', () => {
    const root = renderWith('three-versions', (raw) => {
      raw.services.h.versions.v3 = { greeting: 'Three, from Service H v3!' };
    });
    const entry = catalogue(root).scenarios.find((s) => s.id === 'canary-h-v3-80-20')!;
    expect(entry.istio.file).toBe(`${SCENARIOS}/virtual-service-h-v3-80-20.yaml`);
    const [vs] = read(entry.istio.file, root);
    expect(vs!.spec.http[0].route.map((d: any) => [d.destination.subset, d.weight])).toEqual([
      ['v1', 80],
      ['v3', 20],
    ]);
  });

  test('the README table lists every scenario with its file, both commands and what to watch in Kiali, Grafana and the UI', () => {
    const readme = readFileSync(join(ROOT, SCENARIOS, 'README.md'), 'utf8');
    for (const s of catalogue().scenarios) {
      const row = readme.split('\n').find((l) => l.startsWith(`| \`${s.id}\` |`));
      expect({ id: s.id, row: row !== undefined }).toEqual({ id: s.id, row: true });
      expect(row).toContain(`npm run scenario -- ${s.id}`);
      expect(row).toContain(`npm run scenario -- --undo ${s.id}`);
      expect(row!.split(' | ')).toHaveLength(8);
    }
    expect(readme).toContain(`## The header a dark launch routes by: \`${ROUTING_HEADER}\``);
  });
});

const bases = {
  istio: () => kustomize('deploy/kind'),
  gatewayApi: () => kustomizeWith('deploy/kind', ['components/gateway-api']),
};

/** The set as the cluster holds it once the scenario is applied: replaced objects swapped, added ones added. */
function applied(base: K8sObject[], flavour: IndexedFlavour, objects: K8sObject[]): K8sObject[] {
  const replaced = new Set(flavour.replaces.map((r) => `${r.kind}/${r.name}`));
  return [...base.filter((o) => !replaced.has(`${o.kind}/${o.metadata.name}`)), ...objects];
}

for (const [flavourName, baseOf] of Object.entries(bases)) {
  describe(`every scenario of the ${flavourName === 'istio' ? 'Istio' : 'Gateway API'} flavour`, () => {
    const entries = catalogue().scenarios.flatMap((s) => {
      const f = flavourName === 'istio' ? s.istio : s.gatewayApi;
      return 'cannot' in f ? [] : [{ id: s.id, flavour: f }];
    });

    test('holds exactly what the catalogue says it replaces and adds, and what it replaces is shipped where it says', () => {
      for (const { id, flavour } of entries) {
        const objects = read(flavour.file).map((o) => `${o.kind}/${o.metadata.name}`);
        expect({ id, objects: objects.sort() }).toEqual({ id, objects: [...flavour.replaces, ...flavour.adds].map((r) => `${r.kind}/${r.name}`).sort() });
        for (const r of flavour.replaces) named(read(r.from), r.kind, r.name);
        for (const a of flavour.adds) expect(baseOf().some((o) => o.kind === a.kind && o.metadata.name === a.name)).toBe(false);
      }
    });

    test('weights are percentages summing to 100, subsets exist and select pods, headers are forwarded, backends are the role\'s', () => {
      const base = baseOf();
      for (const { id, flavour } of entries) {
        const objects = read(flavour.file).map((o) => ({ ...o, metadata: { ...o.metadata, namespace: 'dev' } }));
        expect({ id, problems: scenarioProblems(id, objects, applied(base, flavour, objects)) }).toEqual({ id, problems: [] });
      }
    });
  });
}

describe('the checks fail on seeded defects', () => {
  const base = kustomize('deploy/kind');
  const canary = () => structuredClone(read(`${SCENARIOS}/virtual-service-h-80-20.yaml`)[0]!);

  test('weights 80/10 (both APIs would take it as 89/11)', () => {
    const vs = canary();
    vs.spec.http[0].route[1].weight = 10;
    expect(weightProblems(vs)).toEqual(['VirtualService/service-h http[0]: weights 80/10 sum to 90, not 100']);
    const route = structuredClone(read(`${GATEWAY_SCENARIOS}/http-route-h-80-20.yaml`)[0]!);
    route.spec.rules[0].backendRefs[0].weight = 70;
    expect(weightProblems(route)).toEqual(['HTTPRoute/service-h rules[0]: weights 70/20 sum to 90, not 100']);
  });

  test('a route to a subset no DestinationRule defines', () => {
    const vs = canary();
    vs.spec.http[0].route[1].destination.subset = 'v3';
    expect(subsetProblems(vs, base)).toEqual(['VirtualService/service-h routes to service-h subset v3, which no DestinationRule defines']);
  });

  test('a header match on a header no role forwards (it would hold at the first hop only)', () => {
    const vs = structuredClone(read(`${SCENARIOS}/virtual-service-h-jason-v2.yaml`)[0]!);
    vs.spec.http[0].match[0].headers = { 'x-user': { exact: 'jason' } };
    expect(headerProblems(vs)).toEqual(['VirtualService/service-h matches header x-user, which no role forwards']);
  });

  test('an HTTPRoute backend that is not a Service of the role (istioctl analyze does not check backendRefs)', () => {
    const set = kustomizeWith('deploy/kind', ['components/gateway-api']);
    const route = structuredClone(read(`${GATEWAY_SCENARIOS}/http-route-h-80-20.yaml`)[0]!);
    route.spec.rules[0].backendRefs[1].name = 'service-g-v1';
    expect(backendProblems(route, set)).toEqual(["HTTPRoute/service-h sends service-h's traffic to service-g-v1, another role's pods"]);
    route.spec.rules[0].backendRefs[1].name = 'service-h-v9';
    expect(backendProblems(route, set)).toEqual(['HTTPRoute/service-h sends to Service service-h-v9, which the set does not have']);
  });
});
