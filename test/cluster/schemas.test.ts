/**
 * Every object of every kustomization, validated against its API schema offline: the Kubernetes OpenAPI schemas
 * (`kubernetes-models`) and Istio's CRD schemas (`@kubernetes-models/istio`). Also the two IstioOperator install files.
 */
import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Namespace, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { DestinationRule, Gateway, ServiceEntry, VirtualService } from '@kubernetes-models/istio/networking.istio.io/v1beta1';
import { AuthorizationPolicy } from '@kubernetes-models/istio/security.istio.io/v1';
import { PeerAuthentication } from '@kubernetes-models/istio/security.istio.io/v1beta1';
import { IstioOperator } from '@kubernetes-models/istio/install.istio.io/v1alpha1';
import { KUSTOMIZATIONS, ROOT, kustomize, parseYamlStream, type K8sObject } from './manifests';

interface Model {
  new (data: never): { validate(): void };
  apiVersion: string;
}

/**
 * The schema for each apiVersion and kind we emit. Istio's networking v1 and security v1 PeerAuthentication have the same
 * schemas as v1beta1 (Istio promoted them unchanged), and v1beta1 is the newest the model package ships for them.
 */
const MODELS: Record<string, Model> = {
  'v1/Namespace': Namespace,
  'v1/ServiceAccount': ServiceAccount,
  'v1/Service': Service,
  'v1/Secret': Secret,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.istio.io/v1/Gateway': Gateway,
  'networking.istio.io/v1/VirtualService': VirtualService,
  'networking.istio.io/v1/DestinationRule': DestinationRule,
  'networking.istio.io/v1/ServiceEntry': ServiceEntry,
  'security.istio.io/v1/AuthorizationPolicy': AuthorizationPolicy,
  'security.istio.io/v1/PeerAuthentication': PeerAuthentication,
};

/**
 * kustomize wraps a generated Secret's long base64 values over several lines, which the API server accepts (Go's base64
 * decoder skips newlines) but the schema's `byte` format does not: compare them unwrapped.
 */
function unwrapSecretData(object: K8sObject): K8sObject {
  if (object.kind !== 'Secret' || !object.data) return object;
  const data = Object.entries(object.data as Record<string, string>).map(([k, v]) => [k, v.replace(/\s+/g, '')]);
  return { ...object, data: Object.fromEntries(data) };
}

function validate(object: K8sObject): void {
  const model = MODELS[`${object.apiVersion}/${object.kind}`];
  if (!model) throw new Error(`no schema known for ${object.apiVersion} ${object.kind} (add it to MODELS)`);
  new model({ ...unwrapSecretData(object), apiVersion: model.apiVersion } as never).validate();
}

function problems(objects: K8sObject[]): string[] {
  return objects.flatMap((o) => {
    try {
      validate(o);
      return [];
    } catch (err) {
      return [`${o.kind}/${o.metadata.name}: ${(err as Error).message}`];
    }
  });
}

describe('schemas', () => {
  for (const dir of KUSTOMIZATIONS) {
    test(`${dir}: every object is valid`, () => {
      const objects = kustomize(dir);
      expect(objects.length).toBeGreaterThan(0);
      expect(problems(objects)).toEqual([]);
    });
  }

  test('the validation is not a formality: a wrong type or value is rejected', () => {
    const deployment = kustomize('deploy/base').find((o) => o.kind === 'Deployment')!;
    const broken = structuredClone(deployment);
    broken.spec.replicas = 'two';
    expect(() => validate(broken)).toThrow(/replicas must be integer/);
    const rule = kustomize('deploy/istio').find((o) => o.kind === 'DestinationRule')!;
    const brokenRule = structuredClone(rule);
    brokenRule.spec.trafficPolicy.outlierDetection.interval = 10;
    expect(() => validate(brokenRule)).toThrow(/interval must be string/);
  });

  for (const file of ['deploy/kind/istio-operator.yaml', 'deploy/gke/istio-operator.yaml']) {
    test(`${file} is a valid IstioOperator`, () => {
      const [operator] = parseYamlStream(readFileSync(join(ROOT, file), 'utf8'));
      expect(operator?.kind).toBe('IstioOperator');
      expect(() => new IstioOperator(operator as never).validate()).not.toThrow();
    });
  }
});
