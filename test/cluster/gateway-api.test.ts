/**
 * The gateway-api component over each overlay: Istio's Gateway and every VirtualService gone (one router per host), the
 * ingress and every in-mesh route as HTTPRoutes to the default versions, a Service per version selecting exactly that
 * version's pods (Gateway API routes to Services, not subsets), and authorization that lets istiod's gateway, not the Istio
 * ingress gateway, reach the edge, and lets anyone reach the gateway's listener.
 */
import { describe, expect, test } from 'bun:test';
import { loadConfig } from '../../src/config/settings';
import { kustomize, kustomizeWith, matches, named, ofKind, serviceDeployments } from './manifests';

const { config } = loadConfig();
const ids = Object.keys(config.services);
const edge = ids.find((id) => config.services[id]!.edge)!;
const versionsOf = (id: string) => [config.services[id]!.version ?? config.defaults.version, ...Object.keys(config.services[id]!.versions ?? {})];

for (const overlay of ['deploy/kind', 'deploy/gke'] as const) {
  describe(`${overlay} + components/gateway-api`, () => {
    const objects = kustomizeWith(overlay, ['components/gateway-api']);

    test("Istio's Gateway and every VirtualService are gone; a Gateway of class istio takes the ingress", () => {
      expect(ofKind(objects, 'VirtualService')).toEqual([]);
      const gateways = ofKind(objects, 'Gateway');
      expect(gateways.map((g) => [g.apiVersion, g.spec.gatewayClassName])).toEqual([['gateway.networking.k8s.io/v1', 'istio']]);
      const ingress = named(objects, 'HTTPRoute', `ingress-service-${edge}`);
      expect(ingress.spec.parentRefs).toEqual([{ name: gateways[0]!.metadata.name }]);
      expect(ingress.spec.rules.map((r: any) => [r.matches[0].path.value, r.backendRefs.map((b: any) => b.name)])).toEqual([
        ['/api', [`service-${edge}-${versionsOf(edge)[0]}`]],
        ['/', [`service-${edge}-${versionsOf(edge)[0]}`]],
      ]);
      const cors = ingress.spec.rules[0].filters[0].cors;
      expect(cors.allowOrigins).toEqual(config.services[edge]!.edge!.allowedOrigins);
    });

    test('every role has an in-mesh HTTPRoute on its Service to its default version; every version a Service of its own', () => {
      const deployments = serviceDeployments(objects);
      for (const id of ids) {
        const route = named(objects, 'HTTPRoute', `service-${id}`);
        expect(route.spec.parentRefs).toEqual([{ group: '', kind: 'Service', name: `service-${id}`, port: 8080 }]);
        expect(route.spec.rules).toEqual([{ backendRefs: [{ name: `service-${id}-${versionsOf(id)[0]}`, port: 8080 }] }]);
        for (const v of versionsOf(id)) {
          const service = named(objects, 'Service', `service-${id}-${v}`);
          const selected = deployments.filter((d) => matches(service.spec.selector, d.spec.template.metadata.labels));
          expect({ service: service.metadata.name, selects: selected.map((d) => d.metadata.name) }).toEqual({ service: service.metadata.name, selects: [`service-${id}-${v}`] });
          // Istio applies traffic policy by host: the routes' hosts get the role's outlier detection.
          expect(named(objects, 'DestinationRule', `service-${id}-${v}`).spec.trafficPolicy.outlierDetection).toBeDefined();
        }
      }
    });

    test("the edge allows istiod's gateway instead of the Istio ingress gateway, and the gateway's listener is open", () => {
      const policy = named(objects, 'AuthorizationPolicy', `allow-ingress-to-service-${edge}`);
      expect(policy.spec.rules).toEqual([{ from: [{ source: { principals: ['cluster.local/ns/dev/sa/greeting-mesh-ingress-istio'] } }] }]);
      const open = named(objects, 'AuthorizationPolicy', 'allow-anyone-to-greeting-mesh-ingress');
      expect(open.spec.selector.matchLabels).toEqual({ 'gateway.networking.k8s.io/gateway-name': 'greeting-mesh-ingress' });
      // Everything else of the mesh is the overlay's own, unchanged.
      const without = kustomize(overlay);
      for (const p of ofKind(without, 'AuthorizationPolicy').filter((p) => p.metadata.name !== policy.metadata.name))
        expect(named(objects, 'AuthorizationPolicy', p.metadata.name)).toEqual(p);
    });
  });
}
