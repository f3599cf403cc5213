/**
 * The Tiltfile, evaluated by Tilt's own loader (`tilt alpha tiltfile-result`), in both of its modes: the compiled image and
 * `-- --live`. No cluster work and no image build happen; the loader runs the Tiltfile's Starlark, its `local()` render and
 * `kustomize()`, and resolves every resource, dependency and image. Tilt only warns about some mistakes (a `resource_deps`
 * entry that names no resource, an image no object uses), and prints its warnings as plain lines among its progress lines:
 * so every line that is not one of its known progress lines counts as a warning, and a warning is a finding here.
 *
 * Tilt runs in a copy of the tree (the Tiltfile renders the manifests into it), with a home directory of its own, analytics
 * off, Docker pointed at a socket that does not exist, and the gate's loopback API server as its kind cluster.
 */
import { cpSync, mkdirSync, symlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Cluster } from '../cluster';
import { objectName } from '../kube-client';
import { parseYamlStream } from '../render';
import type { CheckResult, Finding } from '../findings';
import { runAsync } from '../processes';
import type { Tools } from '../tools';

/** What Tilt v0.33.0 prints while loading a Tiltfile that has nothing to warn about (`--verbose`, on stderr). */
const PROGRESS = [
  /^Loading Tiltfile at: /,
  /^local: /,
  /^Running: /,
  /^Falling back to `kubectl kustomize` since `kustomize` was not found in PATH$/,
  /^Successfully loaded Tiltfile \(/,
];

/** Top-level directories the Tiltfile never reads: build output, caches, results, and node_modules (linked instead). */
const NOT_COPIED = new Set(['node_modules', '.git', 'dist', '.cache', 'test-results', 'bench']);

/** A private copy of the tree for Tilt, sharing the root's node_modules (the Tiltfile runs the render with its Bun). */
export function tiltTree(root: string, work: string): string {
  const tree = join(work, 'tilt-tree');
  cpSync(root, tree, { recursive: true, filter: (src) => dirname(src) !== root || !NOT_COPIED.has(basename(src)) });
  symlinkSync(join(root, 'node_modules'), join(tree, 'node_modules'));
  return tree;
}

interface Manifest {
  Name: string;
  DeployTarget?: { yaml?: string } | null;
}

export async function checkTiltfile(tools: Tools, cluster: Cluster, tree: string, mode: 'image' | 'live', root: string): Promise<CheckResult> {
  const home = join(tree, '..', `tilt-home-${mode}`);
  mkdirSync(home, { recursive: true });
  const args = ['alpha', 'tiltfile-result', '--file', join(tree, 'Tiltfile'), '--verbose', ...(mode === 'live' ? ['--', '--live'] : [])];
  const result = await runAsync(tools.tilt, args, {
    cwd: tree,
    env: {
      PATH: process.env.PATH,
      HOME: home,
      KUBECONFIG: cluster.kubeconfig,
      DOCKER_HOST: `unix://${join(home, 'no-docker.sock')}`,
      TILT_DISABLE_ANALYTICS: '1',
      DO_NOT_TRACK: '1',
    },
  });
  const findings: Finding[] = [];
  let resources: string[] = [];
  const said = result.stderr.split('\n').map((l) => l.trim()).filter((l) => l && !PROGRESS.some((p) => p.test(l)));
  const warnings = result.status === 0 ? said : [];
  for (const w of warnings) findings.push({ object: 'Tiltfile', message: `Tilt warns: ${w}` });
  if (result.status !== 0) {
    const tail = result.stderr.trim().split('\n').slice(-8).join('\n');
    findings.push({ object: 'Tiltfile', message: `tilt exited ${result.status}: ${tail}` });
  } else {
    let parsed: { Manifests?: Manifest[] | null } = {};
    try {
      parsed = JSON.parse(result.stdout);
    } catch {
      findings.push({ object: 'Tiltfile', message: `tilt printed no result: ${result.stdout.slice(0, 200)}` });
    }
    resources = (parsed.Manifests ?? []).map((m) => m.Name);
    // Objects that no resource claims land in one Tilt calls `uncategorized`: applied, but no resource waits for or shows them.
    const stray = (parsed.Manifests ?? []).find((m) => m.Name === 'uncategorized');
    for (const o of parseYamlStream(stray?.DeployTarget?.yaml ?? ''))
      findings.push({ object: objectName(o), message: 'belongs to no Tilt resource (Tilt puts it in `uncategorized`)' });
  }
  return {
    name: `tilt: Tiltfile loads (${mode === 'live' ? 'tilt up -- --live' : 'tilt up'})`,
    root,
    findings,
    summary: result.status === 0 ? `${resources.length} resources, ${warnings.length} warnings` : 'load failed',
  };
}
