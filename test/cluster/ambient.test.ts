/**
 * The ambient component on both overlays, checked as the mesh would enforce it: the namespace leaves sidecars for ztunnel,
 * every L7 rule moves to the waypoint (a policy with L7 rules that ztunnel enforced would become a deny), the waypoint
 * allows exactly the config's call graph, and ztunnel lets each role's pods be reached only from the waypoint, so no call can
 * go around it. The expectations come from config/services.json, not from the render code under test.
 */
import { describe, expect, test } from 'bun:test';
import { loadConfig } from '../../src/config/settings';
import { GREETING_METHOD } from '../../src/grpc/names';
import { ROUTES } from '../../src/http/routes';
import { OVERLAYS, kustomize, kustomizeWith, matches, named, ofKind, serviceDeployments, type K8sObject } from './manifests';

const { config } = loadConfig();
const ids = Object.keys(config.services);
const edgeId = ids.find((id) => config.services[id]!.edge)!;
const INGRESS_PRINCIPAL = 'cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account';
const principalOf = (sa: string) => `cluster.local/ns/dev/sa/${sa}`;
const versionsOf = (id: string) => [config.services[id]!.version ?? config.defaults.version, ...Object.keys(config.services[id]!.versions ?? {})];
/** Each version of a caller calls as its own identity: one allowed caller per version per edge. */
const callGraph = [`ingress->${edgeId}`, ...ids.flatMap((id) => versionsOf(id).flatMap(() => config.services[id]!.upstreams.map((up) => `${id}->${up}`)))];
/** L7 attributes: what only a proxy that parses HTTP can check (ztunnel cannot). */
const hasL7 = (p: K8sObject) => (p.spec.rules ?? []).some((r: any) => (r.to ?? []).some((t: any) => t.operation?.methods || t.operation?.paths));

for (const overlay of OVERLAYS) {
  describe(`${overlay} + components/ambient`, () => {
    const objects = kustomizeWith(overlay, ['deploy/components/ambient']);
    const policies = ofKind(objects, 'AuthorizationPolicy');
    const roleOfSa = (principal: string) =>
      principal === INGRESS_PRINCIPAL
        ? 'ingress'
        : serviceDeployments(objects).find((d) => principalOf(d.spec.template.spec.serviceAccountName) === principal)?.spec.template.spec.containers[0].env.find((e: any) => e.name === 'ROLE')?.value;

    test('the namespace is in the ambient data plane and out of sidecar injection', () => {
      const [namespace] = ofKind(objects, 'Namespace');
      expect(namespace!.metadata.labels).toEqual({ 'istio.io/dataplane-mode': 'ambient' });
      expect(ofKind(kustomize(overlay), 'Namespace')[0]!.metadata.labels?.['istio-injection']).toBe('enabled');
    });

    test("a waypoint Gateway serves every role's Service; the backends' Services bypass it", () => {
      const waypoint = named(objects, 'Gateway', 'waypoint');
      expect(waypoint.spec.gatewayClassName).toBe('istio-waypoint');
      expect(waypoint.spec.listeners).toEqual([{ name: 'mesh', port: 15008, protocol: 'HBONE' }]);
      for (const service of ofKind(objects, 'Service')) {
        const role = service.metadata.labels?.component === 'service';
        expect({ service: service.metadata.name, waypoint: service.metadata.labels?.['istio.io/use-waypoint'] }).toEqual({ service: service.metadata.name, waypoint: role ? 'waypoint' : undefined });
      }
      expect(named(objects, 'Service', `service-${edgeId}`).metadata.labels?.['istio.io/ingress-use-waypoint']).toBe('true');
    });

    test('no policy with L7 rules is left to ztunnel: each targets a Service the waypoint serves, none selects pods', () => {
      const l7 = policies.filter(hasL7);
      expect(l7.length).toBeGreaterThan(0);
      for (const p of l7) {
        expect({ policy: p.metadata.name, selector: p.spec.selector }).toEqual({ policy: p.metadata.name, selector: undefined });
        for (const ref of p.spec.targetRefs) expect(named(objects, 'Service', ref.name).metadata.labels?.['istio.io/use-waypoint']).toBe('waypoint');
        for (const path of p.spec.rules.flatMap((r: any) => r.to.flatMap((t: any) => t.operation.paths ?? []))) expect(ROUTES.some((r) => r.path === path) || path === GREETING_METHOD).toBe(true);
      }
    });

    test("the waypoint's ALLOWs are exactly the config's call graph", () => {
      const allowed = policies
        .filter((p) => p.spec?.targetRefs && p.spec.action === 'ALLOW')
        .flatMap((p) =>
          p.spec.targetRefs.flatMap((ref: any) => {
            const service = named(objects, 'Service', ref.name);
            const target = serviceDeployments(objects).find((d) => matches(service.spec.selector, d.spec.template.metadata.labels))!;
            const role = target.spec.template.spec.containers[0].env.find((e: any) => e.name === 'ROLE').value;
            return p.spec.rules.flatMap((r: any) => r.from.flatMap((f: any) => f.source.principals.map((pr: string) => `${roleOfSa(pr) ?? pr}->${role}`)));
          }),
        );
      expect(allowed.sort()).toEqual([...callGraph].sort());
    });

    test("ztunnel: deny by default stays, each role's pods admit only the waypoint's identity, on the app's two ports", () => {
      expect(policies.filter((p) => !p.spec || Object.keys(p.spec).length === 0)).toHaveLength(1);
      const l4 = policies.filter((p) => p.spec?.selector && !hasL7(p));
      for (const deployment of serviceDeployments(objects)) {
        const admitting = l4.filter((p) => matches(p.spec.selector.matchLabels, deployment.spec.template.metadata.labels));
        const sources = admitting.flatMap((p) => p.spec.rules.flatMap((r: any) => r.from.flatMap((f: any) => f.source.principals)));
        const ports = admitting.flatMap((p) => p.spec.rules.flatMap((r: any) => r.to.flatMap((t: any) => t.operation.ports)));
        expect({ role: deployment.metadata.name, sources, ports }).toEqual({ role: deployment.metadata.name, sources: [principalOf('waypoint')], ports: ['8080', '50051'] });
      }
    });
  });
}

describe('components/ambient with components/grpc-transport, in either order', () => {
  const withAmbient = (objects: K8sObject[]) => ofKind(objects, 'AuthorizationPolicy');
  for (const order of [['deploy/components/ambient', 'deploy/components/grpc-transport'], ['deploy/components/grpc-transport', 'deploy/components/ambient']]) {
    test(order.map((c) => c.split('/').pop()).join(' then '), () => {
      const objects = kustomizeWith('deploy/kind', order);
      const policies = withAmbient(objects);
      // No sidecar policy comes back through the gRPC patches (they would be L7 rules left to ztunnel: a deny).
      expect(policies.filter((p) => p.spec?.selector && hasL7(p)).map((p) => p.metadata.name)).toEqual([]);
      // The waypoint lets every role-to-role edge make the gRPC call the pods now make, and the pods do make it.
      const grpcAllowed = policies.filter((p) => p.spec?.targetRefs && p.spec.rules.some((r: any) => (r.to ?? []).some((t: any) => t.operation.paths?.includes(GREETING_METHOD))));
      expect(grpcAllowed).toHaveLength(new Set(callGraph).size - 1);
      const urls = serviceDeployments(objects).flatMap((d) => d.spec.template.spec.containers[0].env.filter((e: any) => /^SERVICE_[A-Z]_URL$/.test(e.name)).map((e: any) => e.value));
      expect(urls.length).toBeGreaterThan(0);
      for (const url of urls) expect(url).toStartWith('grpc://');
    });
  }
});
