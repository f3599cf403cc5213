/**
 * Renders the kustomize overlays the way a cluster would receive them (`kubectl kustomize`, or a standalone `kustomize build`
 * where Debian's kubectl embeds too old a kustomize), and gives the tests typed access to the objects.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

export function kustomizeCommand(): string[] {
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
 * An overlay with components it does not include itself (as an overlay that switched them on would be), composed in a copy of
 * deploy/ so nothing is written into the tree. `components` are like `components/gateway-api` (or `deploy/components/gateway-api`).
 */
export function kustomizeWith(overlay: string, components: string[], root = ROOT): K8sObject[] {
  const key = `${join(root, overlay)} + ${components.join(' + ')}`;
  const cached = rendered.get(key);
  if (cached) return cached;
  const copy = mkdtempSync(join(tmpdir(), 'kustomize-with-'));
  try {
    cpSync(join(root, 'deploy'), join(copy, 'deploy'), { recursive: true, filter: (src) => !src.endsWith('/.release') });
    const dir = join(copy, 'deploy', '.composed');
    mkdirSync(dir);
    const body = { apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: [`../${overlay.replace(/^deploy\//, '')}`], components: components.map((c) => `../${c.replace(/^deploy\//, '')}`) };
    writeFileSync(join(dir, 'kustomization.yaml'), JSON.stringify(body));
    const objects = kustomize('deploy/.composed', copy);
    rendered.set(key, objects);
    return objects;
  } finally {
    rmSync(copy, { recursive: true, force: true });
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
