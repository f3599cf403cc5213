/**
 * Renders the kustomize overlays the way a cluster would receive them (`kubectl kustomize`, or a standalone `kustomize build`
 * where Debian's kubectl embeds too old a kustomize), and gives the tests typed access to the objects.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseYamlStream as parseYaml } from '../../scripts/verify-cluster/render';

export const ROOT = join(import.meta.dir, '..', '..');

/** Every directory a cluster is ever given, and the two overlays that are complete deployments. */
export const OVERLAYS = ['deploy/kind', 'deploy/gke'] as const;
export const KUSTOMIZATIONS = ['deploy/base', 'deploy/istio', ...OVERLAYS] as const;

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  // Each test reads the fields it checks; the schemas test proves their shapes.
  spec?: any;
  [field: string]: unknown;
}

const INSTALL_HINT = 'run `bash scripts/ci/install-cluster-tools.sh` (CI does) to install kubectl or kustomize';

function kustomizeCommand(): string[] {
  const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
  const major = Number(/Kustomize Version: v(\d+)/.exec(kubectl.stdout ?? '')?.[1] ?? 0);
  if (kubectl.status === 0 && major >= 5) return ['kubectl', 'kustomize'];
  if (spawnSync('kustomize', ['version']).status === 0) return ['kustomize', 'build'];
  throw new Error(`no kustomize v5 found (kubectl's is v${major}): ${INSTALL_HINT}`);
}

let command: string[] | undefined;
const rendered = new Map<string, K8sObject[]>();

/** The objects of a kustomization directory, relative to the repository (or to another copy of it, `root`). */
export function kustomize(dir: string, root = ROOT): K8sObject[] {
  const path = join(root, dir);
  const cached = rendered.get(path);
  if (cached) return cached;
  command ??= kustomizeCommand();
  const [bin, ...args] = command;
  const result = spawnSync(bin!, [...args, path], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command.join(' ')} ${dir} failed:\n${result.stderr}`);
  const objects = parseYamlStream(result.stdout);
  rendered.set(path, objects);
  return objects;
}

/**
 * An overlay with components it does not include (e.g. `deploy/kind` + `deploy/components/ambient`), as an operator would add
 * them, rendered through a throwaway kustomization beside the overlays (kustomize reads only below or beside its root).
 */
export function kustomizeWith(overlay: string, components: string[]): K8sObject[] {
  const dir = join('deploy', `.with-${process.pid}-${components.map((c) => c.split('/').pop()).join('-')}`);
  mkdirSync(join(ROOT, dir), { recursive: true });
  try {
    const up = (path: string) => join('..', path.replace(/^deploy\//, ''));
    writeFileSync(
      join(ROOT, dir, 'kustomization.yaml'),
      JSON.stringify({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: [up(overlay)], components: components.map(up) }),
    );
    return kustomize(dir);
  } finally {
    rmSync(join(ROOT, dir), { recursive: true, force: true });
  }
}

export function parseYamlStream(text: string): K8sObject[] {
  return parseYaml<K8sObject>(text);
}

export function ofKind(objects: K8sObject[], kind: string): K8sObject[] {
  return objects.filter((o) => o.kind === kind);
}

export function named(objects: K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} named ${name}`);
  return found;
}

/** The platform's own workloads: the Deployments the render made, not the backends'. */
export function serviceDeployments(objects: K8sObject[]): K8sObject[] {
  return ofKind(objects, 'Deployment').filter((d) => d.metadata.labels?.component === 'service');
}

export function matches(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}
