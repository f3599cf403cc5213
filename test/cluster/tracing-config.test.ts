/**
 * Istio's tracing as the Telemetry API configures it, and the services' own exporters, agreeing with each other: every
 * provider a Telemetry names is defined in both installs' mesh config (istioctl analyze does not check this), the proxies'
 * Zipkin and OpenTelemetry providers are the same Jaeger add-on the services export to, sampling is set once per overlay for
 * the whole mesh, and the otlp-tracing component gives every service an environment the service accepts, with the
 * precedence that matches the proxies it switches to.
 */
import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readEnv } from '../../src/config/env';
import { ZIPKIN_URL } from '../../scripts/render/layout';
import { ROOT, kustomize, kustomizeWith, ofKind, parseYamlStream, serviceDeployments, type K8sObject } from './manifests';

const read = (file: string) => parseYamlStream(readFileSync(join(ROOT, file), 'utf8'));
const operators = Object.fromEntries(['kind', 'gke'].map((o) => [o, read(`deploy/${o}/istio-operator.yaml`)[0]!])) as Record<'kind' | 'gke', K8sObject>;
const meshTelemetry = Object.fromEntries(['kind', 'gke'].map((o) => [o, read(`deploy/${o}/telemetry-mesh-tracing.yaml`)])) as Record<'kind' | 'gke', K8sObject[]>;
const withOtlp = kustomizeWith('deploy/kind', ['deploy/components/otlp-tracing']);
const providers = (operator: K8sObject) => (operator.spec.meshConfig.extensionProviders ?? []) as { name: string; zipkin?: any; opentelemetry?: any }[];
const tracingProviders = (objects: K8sObject[]) => ofKind(objects, 'Telemetry').flatMap((t) => t.spec.tracing.flatMap((x: any) => x.providers.map((p: any) => p.name)));
/** host:port of an in-cluster URL or provider, with the cluster domain dropped (both forms name one Service). */
const hostPort = (host: string, port: number | string) => `${host.replace(/\.svc\.cluster\.local$/, '')}:${port}`;

describe('Telemetry API and mesh config', () => {
  test('every tracing provider a Telemetry names is defined in the mesh config of both installs', () => {
    const named = [...tracingProviders(meshTelemetry.kind), ...tracingProviders(meshTelemetry.gke), ...tracingProviders(withOtlp)];
    expect(new Set(named)).toEqual(new Set(['zipkin', 'otel']));
    for (const overlay of ['kind', 'gke'] as const) {
      const defined = providers(operators[overlay]).map((p) => p.name);
      expect({ overlay, missing: named.filter((n) => !defined.includes(n)) }).toEqual({ overlay, missing: [] });
    }
  });

  test("the proxies report where the services do: the Zipkin provider is ZIPKIN_URL's host, the otel provider the OTLP endpoint's", () => {
    const otlp = new URL(serviceDeployments(withOtlp)[0]!.spec.template.spec.containers[0].env.find((e: any) => e.name === 'OTEL_EXPORTER_OTLP_ENDPOINT').value);
    for (const overlay of ['kind', 'gke'] as const) {
      const zipkin = providers(operators[overlay]).find((p) => p.name === 'zipkin')!.zipkin;
      const otel = providers(operators[overlay]).find((p) => p.name === 'otel')!.opentelemetry;
      expect(hostPort(zipkin.service, zipkin.port)).toBe(hostPort(new URL(ZIPKIN_URL).hostname, new URL(ZIPKIN_URL).port));
      // The same Jaeger Service; Envoy speaks OTLP/gRPC (4317), the services OTLP/HTTP (4318).
      expect({ overlay, proxies: hostPort(otel.service, 4317), services: otlp.hostname, port: otel.port }).toEqual({ overlay, proxies: `${otlp.hostname}:4317`, services: otlp.hostname, port: 4317 });
    }
  });

  test('sampling is the Telemetry API\'s, once per overlay, mesh-wide in the root namespace: 100% on kind, 10% on GKE', () => {
    for (const [overlay, percent] of [['kind', 100], ['gke', 10]] as const) {
      const [mesh] = meshTelemetry[overlay];
      expect({ namespace: mesh!.metadata.namespace, selector: mesh!.spec.selector, percent: mesh!.spec.tracing[0].randomSamplingPercentage }).toEqual({ namespace: 'istio-system', selector: undefined, percent });
      expect(operators[overlay].spec.meshConfig.defaultConfig?.tracing).toBeUndefined();
    }
    // The component switches the provider only; Istio merges Telemetry field by field, so the mesh's percentage holds.
    expect(ofKind(withOtlp, 'Telemetry').map((t) => t.spec.tracing[0].randomSamplingPercentage)).toEqual([undefined]);
  });

  test('the check is not a formality: a Telemetry naming a provider the mesh lacks is found', () => {
    const typo = [{ ...meshTelemetry.kind[0]!, spec: { tracing: [{ providers: [{ name: 'zipkn' }] }] } }];
    expect(tracingProviders(typo).filter((n) => !providers(operators.kind).some((p) => p.name === n))).toEqual(['zipkn']);
  });
});

describe('deploy/components/otlp-tracing', () => {
  const deployments = serviceDeployments(withOtlp);

  test("every service's environment is accepted by the service: OTLP to the Jaeger add-on, no Zipkin, W3C read last", () => {
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual(serviceDeployments(kustomize('deploy/kind')).map((d) => d.metadata.name).sort());
    for (const d of deployments) {
      const env = Object.fromEntries((d.spec.template.spec.containers[0].env as { name: string; value?: string }[]).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));
      const settings = readEnv(env);
      expect({ role: env.ROLE, zipkin: settings.zipkinUrl, otlp: settings.otlp?.url, propagators: settings.propagators }).toEqual({
        role: env.ROLE,
        zipkin: undefined,
        otlp: 'http://jaeger-collector.istio-system:4318/v1/traces',
        propagators: ['b3multi', 'tracecontext'],
      });
    }
  });

  test('the rest of each Deployment is untouched', () => {
    const base = serviceDeployments(kustomize('deploy/kind'));
    for (const d of deployments) {
      const before = base.find((b) => b.metadata.name === d.metadata.name)!;
      const names = (x: K8sObject) => (x.spec.template.spec.containers[0].env as { name: string }[]).map((e) => e.name).filter((n) => !/^(ZIPKIN_URL|OTEL_.*)$/.test(n));
      expect(names(d)).toEqual(names(before));
      expect({ ...d.spec.template.spec.containers[0], env: undefined }).toEqual({ ...before.spec.template.spec.containers[0], env: undefined });
    }
  });
});
