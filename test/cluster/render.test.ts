/**
 * The render command: its committed output is current (the check CI relies on), it is deterministic, `--check` catches every
 * kind of staleness, and a role added to the config reaches the cluster objects with no hand edit anywhere.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VARIABLES } from '../../src/config/env';
import { loadConfig } from '../../src/config/settings';
import { renderFiles } from '../../scripts/render/files';
import { ROOT, kustomize, named, serviceDeployments } from './manifests';

const BUN = process.execPath;
const scratch = mkdtempSync(join(tmpdir(), 'render-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function render(...args: string[]) {
  const result = spawnSync(BUN, [join(ROOT, 'scripts/render/main.ts'), ...args], { encoding: 'utf8' });
  return { status: result.status, out: result.stdout + result.stderr };
}

/** A copy of deploy/ to render into, so the tests never touch the committed tree. */
function copyOfDeploy(name: string): string {
  const root = join(scratch, name);
  cpSync(join(ROOT, 'deploy'), join(root, 'deploy'), { recursive: true });
  return root;
}

describe('render', () => {
  test('the committed output matches config/services.json (run `npm run render` if this fails)', () => {
    const { status, out } = render('--check');
    expect(out).toMatch(/generated files match/);
    expect(status).toBe(0);
  });

  test('the same config renders byte-identical files, in plain YAML (no anchors or aliases to puzzle a reader)', () => {
    const { config } = loadConfig();
    const files = [...renderFiles(config)];
    expect(files).toEqual([...renderFiles(structuredClone(config))]);
    for (const [path, text] of files) expect({ path, aliases: /(:|-) [&*][A-Za-z]\w*$/m.test(text) }).toEqual({ path, aliases: false });
  });

  test('--check names a changed file and a left-over file, and exits 1; a plain render repairs both', () => {
    const root = copyOfDeploy('stale');
    const changed = join(root, 'deploy/base/generated/service-b.yaml');
    writeFileSync(changed, readFileSync(changed, 'utf8').replace('replicas: 2', 'replicas: 5'));
    writeFileSync(join(root, 'deploy/istio/generated/service-z.yaml'), '# from a role that no longer exists\n');
    const stale = render('--check', '--out', root);
    expect(stale.status).toBe(1);
    expect(stale.out).toContain('deploy/base/generated/service-b.yaml');
    expect(stale.out).toContain('deploy/istio/generated/service-z.yaml');
    expect(render('--out', root).status).toBe(0);
    expect(existsSync(join(root, 'deploy/istio/generated/service-z.yaml'))).toBe(false);
    expect(render('--check', '--out', root).status).toBe(0);
  });

  test("the README's table of variables is VARIABLES' own: a hand edit there is stale, a render repairs it, the rest stays", () => {
    const root = copyOfDeploy('readme');
    const original = readFileSync(join(ROOT, 'README.md'), 'utf8');
    // A variable documented by hand only (the drift the table exists to prevent), and a hand-written line outside the block.
    const edited = original
      .replace('| `PORT` |', '| `UNREAD_VARIABLE` | read by nothing |\n| `PORT` |')
      .replace('**Shutdown.**', '**Shutdown (edited by hand).**');
    writeFileSync(join(root, 'README.md'), edited);
    const stale = render('--check', '--out', root);
    expect(stale.status).toBe(1);
    expect(stale.out).toContain('README.md');
    expect(render('--out', root).status).toBe(0);
    const repaired = readFileSync(join(root, 'README.md'), 'utf8');
    expect(repaired).not.toContain('UNREAD_VARIABLE');
    expect(repaired).toContain('**Shutdown (edited by hand).**');
    for (const v of Object.values(VARIABLES)) expect(repaired).toContain(`| \`${v.name}\` |`);
  });

  test('a new role in the config gets its workload, its mesh identity and its autoscaler with no hand edit', () => {
    const root = copyOfDeploy('new-role');
    const raw = JSON.parse(readFileSync(join(ROOT, 'config/services.json'), 'utf8'));
    raw.services.e.upstreams.push('i');
    raw.services.i = { name: 'Service I', greeting: 'Hej, from Service I!', port: 8088, replicas: 1 };
    const configFile = join(root, 'services.json');
    writeFileSync(configFile, JSON.stringify(raw));
    expect(render('--config', configFile, '--out', root).status).toBe(0);

    const kind = kustomize('deploy/kind', root);
    const deployment = named(kind, 'Deployment', 'service-i-v1');
    expect(deployment.spec.replicas).toBe(1);
    const e = serviceDeployments(kind).find((d) => d.metadata.name === 'service-e-v1')!;
    expect(e.spec.template.spec.containers[0].env).toContainEqual({ name: 'SERVICE_I_URL', value: 'http://service-i:8080' });
    const allow = named(kind, 'AuthorizationPolicy', 'allow-service-e-to-service-i');
    expect(allow.spec.rules[0].from[0].source.principals).toEqual(['cluster.local/ns/dev/sa/service-e', 'cluster.local/ns/dev/sa/service-e-v2']);
    expect(named(kustomize('deploy/gke', root), 'HorizontalPodAutoscaler', 'service-i-v1').spec.minReplicas).toBe(1);
  });

  test('a version added to a role is a config edit only: its Deployment, identity, subset, autoscaler, policies and scenarios', () => {
    const root = copyOfDeploy('new-version');
    const raw = JSON.parse(readFileSync(join(ROOT, 'config/services.json'), 'utf8'));
    raw.services.b.versions = { v2: { greeting: 'Namasté again, from Service B v2!', replicas: 1 } };
    const configFile = join(root, 'services.json');
    writeFileSync(configFile, JSON.stringify(raw));
    expect(render('--config', configFile, '--out', root).status).toBe(0);

    const kind = kustomize('deploy/kind', root);
    const v2 = named(kind, 'Deployment', 'service-b-v2');
    expect(v2.spec.selector.matchLabels).toEqual({ app: 'service-b', component: 'service', version: 'v2' });
    expect(v2.spec.template.spec.serviceAccountName).toBe('service-b-v2');
    named(kind, 'ServiceAccount', 'service-b-v2');
    named(kind, 'PodDisruptionBudget', 'service-b-v2');
    // v1 is untouched: the same Deployment, selector and identity as before the version was added (an upgrade changes nothing there).
    const before = kustomize('deploy/kind');
    expect(named(kind, 'Deployment', 'service-b-v1')).toEqual(named(before, 'Deployment', 'service-b-v1'));
    expect(named(kind, 'DestinationRule', 'service-b').spec.subsets).toEqual([
      { name: 'v1', labels: { version: 'v1' } },
      { name: 'v2', labels: { version: 'v2' } },
    ]);
    expect(named(kind, 'VirtualService', 'service-b')).toEqual(named(before, 'VirtualService', 'service-b'));
    for (const up of ['d', 'e'])
      expect(named(kind, 'AuthorizationPolicy', `allow-service-b-to-service-${up}`).spec.rules[0].from[0].source.principals).toEqual([
        'cluster.local/ns/dev/sa/service-b',
        'cluster.local/ns/dev/sa/service-b-v2',
      ]);
    expect(named(kustomize('deploy/gke', root), 'HorizontalPodAutoscaler', 'service-b-v2').spec.minReplicas).toBe(1);
    const catalogue = JSON.parse(readFileSync(join(root, 'deploy/istio/scenarios/scenarios.json'), 'utf8'));
    const ids: string[] = catalogue.scenarios.map((s: { id: string }) => s.id);
    expect(ids).toEqual(expect.arrayContaining(['b-v2', 'canary-b-80-20', 'dark-launch-b-v2', 'deny-b-v2-to-d', 'deny-b-v2-to-e']));
    expect(existsSync(join(root, 'deploy/istio/scenarios/virtual-service-b-80-20.yaml'))).toBe(true);
  });

  test('an invalid config is refused with the file, the path and the reason, and nothing is written', () => {
    const root = copyOfDeploy('invalid');
    const configFile = join(root, 'services.json');
    const raw = JSON.parse(readFileSync(join(ROOT, 'config/services.json'), 'utf8'));
    raw.services.b.upstreams.push('nowhere');
    writeFileSync(configFile, JSON.stringify(raw));
    const before = readFileSync(join(root, 'deploy/base/generated/service-b.yaml'), 'utf8');
    const { status, out } = render('--config', configFile, '--out', root);
    expect(status).toBe(2);
    expect(out).toContain(`${configFile} /services/b/upstreams/2: upstream 'nowhere' is not a role in this config`);
    expect(readFileSync(join(root, 'deploy/base/generated/service-b.yaml'), 'utf8')).toBe(before);
  });
});
