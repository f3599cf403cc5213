/**
 * What neither the API server nor istioctl says about a scenario file, as checks that return their problems (so a test can
 * show each one failing on a seeded defect): weights that are not percentages summing to 100 (both APIs take any relative
 * weights, so an 80/10 split is valid and silently means 89/11), a route to a subset no DestinationRule defines or no pod
 * carries, a header match on a header the roles do not forward (it would match at the first hop only, and nowhere deeper),
 * an HTTPRoute backend that is not a Service of its role (istioctl analyze does not look), an object without its label.
 */
import { ROUTING_HEADERS } from '../../src/serving/routing-headers';
import { matches, ofKind, type K8sObject } from './manifests';

const name = (o: K8sObject) => `${o.kind}/${o.metadata.name}`;

/** A split sums to 100; a single destination has no weight or 100. */
function split(weights: (number | undefined)[], where: string): string[] {
  if (weights.length === 1) return weights[0] === undefined || weights[0] === 100 ? [] : [`${where}: a single destination weighted ${weights[0]}`];
  if (weights.some((w) => w === undefined)) return [`${where}: a split with an unweighted destination`];
  const sum = weights.reduce((a: number, w) => a + w!, 0);
  return sum === 100 ? [] : [`${where}: weights ${weights.join('/')} sum to ${sum}, not 100`];
}

export function weightProblems(o: K8sObject): string[] {
  if (o.kind === 'VirtualService')
    return (o.spec.http ?? []).flatMap((r: any, i: number) => split(r.route.map((d: any) => d.weight), `${name(o)} http[${i}]`));
  if (o.kind === 'HTTPRoute')
    return (o.spec.rules ?? []).flatMap((r: any, i: number) => split((r.backendRefs ?? []).map((b: any) => b.weight), `${name(o)} rules[${i}]`));
  return [];
}

/** Every header matched names a header every role forwards (src/serving/routing-headers.ts). */
export function headerProblems(o: K8sObject): string[] {
  const headers =
    o.kind === 'VirtualService'
      ? (o.spec.http ?? []).flatMap((r: any) => (r.match ?? []).flatMap((m: any) => Object.keys(m.headers ?? {})))
      : o.kind === 'HTTPRoute'
        ? (o.spec.rules ?? []).flatMap((r: any) => (r.matches ?? []).flatMap((m: any) => (m.headers ?? []).map((h: any) => h.name)))
        : [];
  const forwarded = new Set<string>(ROUTING_HEADERS);
  return headers.filter((h: string) => !forwarded.has(h.toLowerCase())).map((h: string) => `${name(o)} matches header ${h}, which no role forwards`);
}

/** Every routed subset is one the host's DestinationRule defines, and some Deployment's pods carry its labels. */
export function subsetProblems(o: K8sObject, set: K8sObject[]): string[] {
  if (o.kind !== 'VirtualService') return [];
  return (o.spec.http ?? []).flatMap((r: any) =>
    r.route.flatMap(({ destination }: any) => {
      const rule = ofKind(set, 'DestinationRule').find((d) => d.spec.host === destination.host);
      const subset = rule?.spec.subsets?.find((s: any) => s.name === destination.subset);
      if (!subset) return [`${name(o)} routes to ${destination.host} subset ${destination.subset}, which no DestinationRule defines`];
      const service = set.find((s) => s.kind === 'Service' && s.metadata.name === destination.host);
      const pods = ofKind(set, 'Deployment').filter((d) => matches({ ...service?.spec.selector, ...subset.labels }, d.spec.template.metadata.labels));
      return pods.length > 0 ? [] : [`${name(o)} routes to ${destination.host} subset ${destination.subset}, which no Deployment's pods carry`];
    }),
  );
}

/** Every backend of an HTTPRoute is a Service of the set, on a port it has, whose pods are the parent Service's role. */
export function backendProblems(o: K8sObject, set: K8sObject[]): string[] {
  if (o.kind !== 'HTTPRoute') return [];
  const parent = o.spec.parentRefs.find((p: any) => p.kind === 'Service');
  const app = parent && set.find((s) => s.kind === 'Service' && s.metadata.name === parent.name)?.spec.selector.app;
  return o.spec.rules.flatMap((r: any) =>
    (r.backendRefs ?? []).flatMap((b: any) => {
      const service = set.find((s) => s.kind === 'Service' && s.metadata.name === b.name);
      if (!service) return [`${name(o)} sends to Service ${b.name}, which the set does not have`];
      if (!service.spec.ports.some((p: any) => p.port === b.port)) return [`${name(o)} sends to ${b.name}:${b.port}, a port it does not have`];
      if (app && service.spec.selector.app !== app) return [`${name(o)} sends ${parent.name}'s traffic to ${b.name}, another role's pods`];
      return [];
    }),
  );
}

export function scenarioProblems(id: string, objects: K8sObject[], set: K8sObject[]): string[] {
  return objects.flatMap((o) => [
    ...weightProblems(o),
    ...headerProblems(o),
    ...subsetProblems(o, set),
    ...backendProblems(o, set),
    ...(o.metadata.labels?.['greeting-mesh/scenario'] === id ? [] : [`${name(o)} lacks the label greeting-mesh/scenario: ${id}`]),
  ]);
}
