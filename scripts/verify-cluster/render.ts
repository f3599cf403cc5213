/**
 * The sets of objects a cluster can be given: each overlay with every subset of the components it does not include, as
 * shipped (the empty subset) up to all of them at once (a component is any kustomization of `kind: Component` under deploy/
 * that no other component includes: grpc-transport/generated is a part of grpc-transport, not a choice of its own). Every
 * subset, because two components can collide where a third hides it: five optional components make 32 sets per overlay.
 * The gate's own test asks for `each` (as shipped, each component alone, all together) which still renders every file, to
 * prove that a seeded defect is caught without paying for every combination twice. Then the scenarios: each scenario file of
 * deploy/istio/scenarios (and the gateway-api component's twins) over the set it is applied to, as a cluster holds it once
 * applied. The tree is rendered from a private copy, so the composed kustomizations are never written into the repository.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import type { K8sObject } from './kube-client';
import { run } from './processes';
import type { CatalogueIndex, IndexedFlavour } from '../render/scenario-index';
import { CATALOGUE_FILE } from '../render/scenario-index';

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
  /** The components the gate added to the overlay, relative to deploy/ (none for the overlay as shipped). */
  components: string[];
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

/** Which subsets of an overlay's missing components the gate composes. */
export type Combinations = 'all' | 'each' | 'shipped';

/** Every subset, smallest first; or the empty one, each alone and all together; or only the empty one. */
export function selections<T>(items: T[], combinations: Combinations): T[][] {
  if (combinations === 'shipped') return [[]];
  if (combinations === 'each') return [[], ...items.map((item) => [item]), ...(items.length > 1 ? [items] : [])];
  const subsets = Array.from({ length: 2 ** items.length }, (_, mask) => items.filter((_, i) => mask & (1 << i)));
  return subsets.sort((x, y) => x.length - y.length);
}

/** Components that another component includes: parts of a choice, not choices. */
function parts(components: string[]): Set<string> {
  return new Set(components.flatMap((dir) => (kustomization(dir).components ?? []).map((c) => resolve(dir, c))));
}

/** A DNS label for `text`: the long ones (five components) keep a hash of the whole, so two never share a namespace. */
function slug(text: string): string {
  const plain = text.replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
  if (plain.length <= 56) return plain;
  const hash = new Bun.CryptoHasher('sha256').update(text).digest('hex').slice(0, 6);
  return `${plain.slice(0, 49).replace(/-$/, '')}-${hash}`;
}

/** Renders every set of `root`'s deploy/ tree, through a copy under `work`; `prefix` keeps each tree's namespaces its own. */
export function renderedSets(root: string, kustomize: string[], work: string, prefix = 'v', combinations: Combinations = 'all'): RenderedSet[] {
  const deploy = join(work, 'deploy');
  cpSync(join(root, 'deploy'), deploy, { recursive: true, filter: (src) => !src.endsWith('/.release') });
  const all = kustomizations(deploy).filter((dir) => kustomization(dir).kind === 'Component');
  const nested = parts(all);
  const components = all.filter((c) => !nested.has(c));
  const sets: RenderedSet[] = [];
  for (const overlay of OVERLAYS) {
    const dir = join(deploy, overlay);
    const own = (kustomization(dir).components ?? []).map((c) => resolve(dir, c));
    const extras = components.filter((c) => !own.includes(c));
    for (const extra of selections(extras, combinations)) {
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
      sets.push({
        name: label,
        namespace: `${prefix}-${slug(label)}`.slice(0, 63).replace(/-$/, ''),
        objects,
        file,
        shipped: extra.length === 0,
        overlay,
        components: extra.map((c) => relative(deploy, c)),
      });
    }
  }
  return sets;
}

/** The component whose scenario twins the Gateway API flavour holds. */
export const GATEWAY_API_COMPONENT = 'components/gateway-api';

export interface ScenarioSet extends RenderedSet {
  scenario: string;
  flavour: 'istio' | 'gateway-api';
  /** The set the scenario is applied over, as shipped. */
  base: RenderedSet;
  /** The scenario file's own objects (namespace `dev`, as the command applies them). */
  applied: K8sObject[];
  replaces: IndexedFlavour['replaces'];
  adds: IndexedFlavour['adds'];
}

const refKey = (o: { kind: string; name: string }) => `${o.kind}/${o.name}`;

/**
 * Every scenario, as the cluster holds it once applied: the kind overlay as shipped (or with the gateway-api component, for
 * that flavour) with the objects the scenario replaces swapped for its own and what it adds added. `work` is where
 * renderedSets copied the tree.
 */
export function scenarioSets(work: string, sets: RenderedSet[]): ScenarioSet[] {
  const index = join(work, CATALOGUE_FILE);
  if (!existsSync(index)) return [];
  const catalogue = JSON.parse(readFileSync(index, 'utf8')) as CatalogueIndex;
  const bases = {
    istio: sets.find((s) => s.overlay === 'kind' && s.shipped),
    'gateway-api': sets.find((s) => s.overlay === 'kind' && s.components.length === 1 && s.components[0] === GATEWAY_API_COMPONENT),
  };
  const out: ScenarioSet[] = [];
  for (const entry of catalogue.scenarios) {
    for (const flavour of ['istio', 'gateway-api'] as const) {
      const f = flavour === 'istio' ? entry.istio : entry.gatewayApi;
      const base = bases[flavour];
      if ('cannot' in f || !base) continue;
      const applied = parseYamlStream(readFileSync(join(work, f.file), 'utf8')).map((o) => ({ ...o, metadata: { ...o.metadata, namespace: 'dev' } }));
      const swapped = new Set([...f.replaces.map(refKey)]);
      const objects = [...base.objects.filter((o) => !swapped.has(refKey({ kind: o.kind, name: o.metadata.name }))), ...applied];
      const label = `${base.name} + scenario ${entry.id}`;
      // Numbered: two long scenario names could slug to the same 63 characters.
      const file = join(work, `scenario-set-${out.length}.yaml`);
      writeFileSync(file, objects.map((o) => JSON.stringify(o)).join('\n---\n'));
      out.push({ ...base, name: label, file, objects, shipped: false, scenario: entry.id, flavour, base, applied, replaces: f.replaces, adds: f.adds });
    }
  }
  return out;
}

/** Per flavour, every scenario's own objects in one file: what `istioctl validate`, which checks objects one by one, needs. */
export function scenarioFiles(sets: ScenarioSet[], work: string): RenderedSet[] {
  mkdirSync(work, { recursive: true });
  return (['istio', 'gateway-api'] as const).flatMap((flavour) => {
    const of = sets.filter((s) => s.flavour === flavour);
    if (of.length === 0) return [];
    const objects = of.flatMap((s) => s.applied);
    const file = join(work, `${flavour}.yaml`);
    writeFileSync(file, objects.map((o) => JSON.stringify(o)).join('\n---\n'));
    return [{ ...of[0]!.base, name: `the ${of.length} scenario files over ${of[0]!.base.name}`, file, objects, shipped: false }];
  });
}
