/**
 * `npm run scenario`: its --dry-run plan (the kubectl commands and the objects they would send), and the same plan run for
 * real against a stand-in kubectl that records what it was asked (no cluster here; the gate applies and undoes every scenario
 * against a real API server). An unknown scenario, or one Gateway API cannot express, is a usage error naming what exists.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { CatalogueIndex } from '../../scripts/render/scenario-index';
import { ROOT, named, parseYamlStream } from './manifests';

const catalogue: CatalogueIndex = JSON.parse(readFileSync(join(ROOT, 'deploy/istio/scenarios/scenarios.json'), 'utf8'));
const APPLY = 'kubectl -n dev apply --server-side --field-manager=greeting-mesh-scenario --force-conflicts';
const scratch = mkdtempSync(join(tmpdir(), 'scenario-command-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function scenario(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [join(ROOT, 'scripts/scenario/main.ts'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { PATH: '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...env },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, commands: result.stdout.split('\n').filter((l) => l.startsWith('+ ')) };
}

/** The YAML a dry run prints after `<<'YAML'` for the command on line `index`. */
function heredoc(stdout: string, index: number): string {
  const lines = stdout.split('\n');
  const at = lines.findIndex((l, i) => l.startsWith('+ ') && lines.slice(0, i).filter((x) => x.startsWith('+ ')).length === index);
  const end = lines.indexOf('YAML', at);
  return lines.slice(at + 1, end).join('\n');
}

describe('npm run scenario -- --dry-run', () => {
  test('a scenario: one server-side apply of its file, as the scenario field manager, taking the route over', () => {
    const { status, commands, stderr } = scenario(['--dry-run', 'canary-h-80-20']);
    expect({ status, stderr }).toEqual({ status: 0, stderr: '' });
    expect(commands).toEqual([`+ ${APPLY} -f deploy/istio/scenarios/virtual-service-h-80-20.yaml`]);
  });

  test('several, in the order given', () => {
    expect(scenario(['--dry-run', 'delay-h', 'timeout-e']).commands).toEqual([
      `+ ${APPLY} -f deploy/istio/scenarios/virtual-service-h-test-delay.yaml`,
      `+ ${APPLY} -f deploy/istio/scenarios/virtual-service-e-timeout.yaml`,
    ]);
  });

  test('--undo: the shipped object it replaced, sent on stdin, and a delete of what it added', () => {
    const { status, stdout, commands } = scenario(['--dry-run', '--undo', 'canary-h-80-20', 'deny-e-v2-to-h']);
    expect(status).toBe(0);
    expect(commands).toEqual([
      `+ ${APPLY} -f - <<'YAML'`,
      '+ kubectl -n dev delete --ignore-not-found -f deploy/istio/scenarios/authorization-policy-deny-e-v2-to-h.yaml',
    ]);
    const sent = parseYamlStream(heredoc(stdout, 0));
    expect(sent).toEqual([named(parseYamlStream(readFileSync(join(ROOT, 'deploy/istio/generated/virtual-services-all-v1.yaml'), 'utf8')), 'VirtualService', 'service-h')]);
  });

  test('reset: every object any scenario replaces, as shipped, in one apply, and every added object deleted', () => {
    const { status, stdout, commands } = scenario(['--dry-run', 'reset']);
    expect(status).toBe(0);
    const replaced = new Set(catalogue.scenarios.flatMap((s) => s.istio.replaces.map((r) => `${r.kind}/${r.name}`)));
    const sent = parseYamlStream(heredoc(stdout, 0)).map((o) => `${o.kind}/${o.metadata.name}`);
    expect(sent.sort()).toEqual([...replaced].sort());
    const adders = catalogue.scenarios.filter((s) => s.istio.adds.length > 0).map((s) => `+ kubectl -n dev delete --ignore-not-found -f ${s.istio.file}`);
    expect(commands.slice(1)).toEqual(adders);
    // Nothing a scenario labels survives a reset: the shipped objects carry no scenario label.
    expect(heredoc(stdout, 0)).not.toContain('greeting-mesh/scenario');
  });

  test('--gateway-api: the component\'s twins, and a clear refusal where Gateway API cannot say it', () => {
    expect(scenario(['--dry-run', '--gateway-api', 'canary-h-80-20']).commands).toEqual([
      `+ ${APPLY} -f deploy/components/gateway-api/scenarios/http-route-h-80-20.yaml`,
    ]);
    const fault = scenario(['--dry-run', '--gateway-api', 'delay-h']);
    expect(fault.status).toBe(2);
    expect(fault.stderr).toContain('delay-h has no Gateway API twin: Gateway API has no fault injection');
    const undo = scenario(['--dry-run', '--gateway-api', '--undo', 'canary-h-80-20']);
    expect(parse(heredoc(undo.stdout, 0))).toMatchObject({ kind: 'HTTPRoute', metadata: { name: 'service-h' } });
  });

  // Two runs for the whole catalogue, not two per scenario: forty processes took over 5 s on a loaded machine.
  test('every scenario of the catalogue has a plan, both ways', () => {
    const ids = catalogue.scenarios.map((s) => s.id);
    const apply = scenario(['--dry-run', ...ids]);
    expect(apply.status).toBe(0);
    for (const id of ids) expect(apply.stdout).toContain(`# apply ${id}: `);
    const undo = scenario(['--dry-run', '--undo', ...ids]);
    expect(undo.status).toBe(0);
    expect(undo.stdout).toContain(`# undo ${ids.join(' ')}: `);
  });

  test('an unknown scenario is a usage error listing the ones there are; so is reset with others', () => {
    const unknown = scenario(['--dry-run', 'canary-h-70-30']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain("no scenario 'canary-h-70-30'; there are: all-v1, ");
    expect(unknown.stderr).toContain('canary-h-80-20');
    expect(scenario(['reset', 'h-v2']).status).toBe(2);
    expect(scenario([]).status).toBe(2);
  });

  test('--help prints every form of the command and exits 0; an unknown option is a usage error with the same text', () => {
    const help = scenario(['--help']);
    expect(help.status).toBe(0);
    for (const form of ['<id>...', '--undo <id>...', 'reset', '--list', '--dry-run', '--gateway-api']) expect(help.stdout).toContain(form);
    const bad = scenario(['--bogus']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("unknown option '--bogus'");
    expect(bad.stderr).toContain(help.stdout.trim());
  });

  test('--list names each scenario, what it shows, what to pair it with and whether Gateway API has it', () => {
    const { status, stdout } = scenario(['--list']);
    expect(status).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(catalogue.scenarios.length);
    expect(lines.find((l) => l.startsWith('deny-e-v2-to-h '))).toMatch(/\(with canary-e-50-50\) \[Istio and Gateway API\]$/);
    expect(lines.find((l) => l.startsWith('delay-h '))).toMatch(/\[Istio only\]$/);
  });
});

describe('npm run scenario, for real, against a stand-in kubectl', () => {
  const bin = join(scratch, 'bin');
  const log = join(scratch, 'kubectl.log');
  mkdirSync(bin, { recursive: true });
  // Records each call's arguments, and its stdin when it reads one (`-f -`); with FAIL_DELETE set, a delete fails, to show
  // that the steps after a failure do not run.
  writeFileSync(
    join(bin, 'kubectl'),
    [
      '#!/bin/sh',
      `printf 'args: %s\\n' "$*" >>"${log}"`,
      `case "$*" in *"-f -") cat >>"${log}" ;; esac`,
      'case "$*" in *" delete "*) [ -n "$FAIL_DELETE" ] && exit 3 ;; esac',
      'exit 0',
      '',
    ].join('\n'),
  );
  chmodSync(join(bin, 'kubectl'), 0o755);
  const PATH = `${bin}:/usr/bin:/bin`;

  test('apply then undo runs exactly the dry run\'s commands, sending the shipped objects on stdin', () => {
    rmSync(log, { force: true });
    expect(scenario(['deny-e-v2-to-h'], { PATH }).status).toBe(0);
    expect(scenario(['--undo', 'canary-h-80-20'], { PATH }).status).toBe(0);
    const text = readFileSync(log, 'utf8');
    expect(text.split('\n').filter((l) => l.startsWith('args: '))).toEqual([
      `args: ${APPLY.replace('kubectl ', '')} -f deploy/istio/scenarios/authorization-policy-deny-e-v2-to-h.yaml`,
      `args: ${APPLY.replace('kubectl ', '')} -f -`,
    ]);
    expect(text).toContain('kind: VirtualService\nmetadata:\n  name: service-h\n');
  });

  test('a kubectl that fails stops the plan with its status named, exit 1', () => {
    rmSync(log, { force: true });
    const run = scenario(['--undo', 'deny-e-v2-to-g', 'deny-e-v2-to-h'], { PATH, FAIL_DELETE: '1' });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('exited 3; the steps after it were not run');
    expect(readFileSync(log, 'utf8').split('\n').filter((l) => l.startsWith('args: '))).toHaveLength(1);
  });

  test('without kubectl on the PATH it says so and exits 1, having done nothing', () => {
    const run = scenario(['canary-h-80-20'], { PATH: '/nonexistent' });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('cannot run kubectl');
  });
});
