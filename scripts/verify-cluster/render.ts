/**
 * Every set of objects a cluster can be given: each overlay as shipped, and each overlay with each of the components it does
 * not already include, one at a time (a component is any kustomization of `kind: Component` under deploy/ that no other
 * component includes). The tree is rendered from a private copy, so the combinations' kustomizations are never written into
 * the repository.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import type { K8sObject } from './kube-client';
import { run } from './processes';

/** The complete deployments; everything else is a part of them. */
export const OVERLAYS = ['kind', 'gke'] as const;

export interface RenderedSet {
  /** e.g. `deploy/kind` or `deploy/kind + components/external-backends`. */
  name: string;
  /** Where the gate applies this set, so sets never overwrite each other on the one API server. */
  namespace: string;
  /** As kustomize renders it (namespace `dev`). */
  objects: K8sObject[];
  /** The rendered YAML, for istioctl. */
  file: string;
  /** An overlay exactly as shipped (not a combination the gate composed). */
  shipped: boolean;
  overlay: (typeof OVERLAYS)[number];
}

/** Every document of a YAML stream (kustomize's or istioctl's output), empty documents dropped; a syntax error throws. */
export function parseYamlStream<T = K8sObject>(text: string): T[] {
  return parseAllDocuments(text)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(doc.errors.map((e) => e.message).join('\n'));
      return doc.toJS() as T | null;
    })
    .filter((o): o is T => o !== null);
}

export function kustomizeBuild(kustomize: string[], dir: string): K8sObject[] {
  const [bin, ...args] = kustomize;
  const result = run(bin!, [...args, dir]);
  if (result.status !== 0) throw new Error(`${kustomize.join(' ')} ${dir} failed:\n${result.stderr.trim()}`);
  return parseYamlStream(result.stdout);
}

function kustomizations(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (!statSync(path).isDirectory() || name.startsWith('.')) return [];
    const file = join(path, 'kustomization.yaml');
    return [...(existsSync(file) ? [path] : []), ...kustomizations(path)];
  });
}

function kustomization(dir: string): { kind?: string; components?: string[] } {
  return parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) ?? {};
}

/**
 * The overlay as shipped, then with each component it lacks, one at a time. Every subset would prove each combination too,
 * but doubles the gate with each new component (a dozen components is thousands of sets); one at a time keeps it linear,
 * and an interaction between two optional components is what their own READMEs must rule out.
 */
function alone<T>(items: T[]): T[][] {
  return [[], ...items.map((item) => [item])];
}

function slug(text: string): string {
  return text.replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 63).replace(/-$/, '');
}

/** Renders every set of `root`'s deploy/ tree, through a copy under `work`; `prefix` keeps each tree's namespaces its own. */
export function renderedSets(root: string, kustomize: string[], work: string, prefix = 'v'): RenderedSet[] {
  const deploy = join(work, 'deploy');
  cpSync(join(root, 'deploy'), deploy, { recursive: true, filter: (src) => !src.endsWith('/.release') });
  const all = kustomizations(deploy).filter((dir) => kustomization(dir).kind === 'Component');
  // A component another component includes is a part of that one (deploy/components/ambient/generated), not an option.
  const parts = new Set(all.flatMap((dir) => (kustomization(dir).components ?? []).map((c) => resolve(dir, c))));
  const components = all.filter((dir) => !parts.has(dir));
  const sets: RenderedSet[] = [];
  for (const overlay of OVERLAYS) {
    const dir = join(deploy, overlay);
    const own = (kustomization(dir).components ?? []).map((c) => resolve(dir, c));
    const extras = components.filter((c) => !own.includes(c));
    for (const extra of alone(extras)) {
      const label = [`deploy/${overlay}`, ...extra.map((c) => relative(deploy, c))].join(' + ');
      let target = dir;
      if (extra.length > 0) {
        target = join(deploy, '.verify', slug(label));
        mkdirSync(target, { recursive: true });
        const body = {
          apiVersion: 'kustomize.config.k8s.io/v1beta1',
          kind: 'Kustomization',
          namespace: 'dev',
          resources: [relative(target, dir)],
          components: extra.map((c) => relative(target, c)),
        };
        writeFileSync(join(target, 'kustomization.yaml'), JSON.stringify(body, null, 2));
      }
      const objects = kustomizeBuild(kustomize, target);
      const file = join(work, `${slug(label)}.yaml`);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, objects.map((o) => JSON.stringify(o)).join('\n---\n'));
      sets.push({ name: label, namespace: `${prefix}-${slug(label)}`.slice(0, 63).replace(/-$/, ''), objects, file, shipped: extra.length === 0, overlay });
    }
  }
  return sets;
}
