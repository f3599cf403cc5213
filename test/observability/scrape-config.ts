/**
 * A Prometheus scrape config derived from the rendered manifests, read the way the cluster's Prometheus reads pods (the
 * `kubernetes-pods` job of Istio's Prometheus add-on): a pod template annotated `prometheus.io/scrape: "true"` is scraped at
 * `prometheus.io/path` on `prometheus.io/port`, with the pod's labels as target labels. Only the address is local: the pod's
 * annotated port becomes the port of its process (that version of that role), so a wrong annotation (path, port, a role left
 * unannotated) fails the scrape here as it would in the cluster.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { parseYamlStream, type K8sObject } from '../cluster/manifests';

export const WORKLOADS_DIR = join(import.meta.dir, '..', '..', 'deploy', 'base', 'generated');

export interface AnnotatedTarget {
  deployment: string;
  /** The role the container runs (its ROLE env). */
  role: string;
  port: number;
  path: string;
  labels: Record<string, string>;
}

/** The Deployments the render wrote, in the order of the generated kustomization's resources. */
export function renderedDeployments(dir = WORKLOADS_DIR): K8sObject[] {
  const resources = (parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as { resources: string[] }).resources;
  return resources.flatMap((file) => parseYamlStream(readFileSync(join(dir, file), 'utf8'))).filter((o) => o.kind === 'Deployment');
}

/** Every pod template that asks to be scraped, with where and how; throws when an annotation names a port the pod lacks. */
export function annotatedTargets(deployments: K8sObject[]): AnnotatedTarget[] {
  return deployments.flatMap((d) => {
    const template = d.spec.template;
    const annotations: Record<string, string> = template.metadata.annotations ?? {};
    if (annotations['prometheus.io/scrape'] !== 'true') return [];
    const container = template.spec.containers[0];
    const port = Number(annotations['prometheus.io/port']);
    if (!container.ports?.some((p: { containerPort: number }) => p.containerPort === port))
      throw new Error(`${d.metadata.name}: prometheus.io/port ${annotations['prometheus.io/port']} is not a container port`);
    const role = (container.env as { name: string; value?: string }[]).find((e) => e.name === 'ROLE')?.value;
    if (!role) throw new Error(`${d.metadata.name}: no literal ROLE in the container's env`);
    // Prometheus' default when the annotation is absent.
    const path = annotations['prometheus.io/path'] ?? '/metrics';
    return [{ deployment: d.metadata.name, role, port, path, labels: { ...template.metadata.labels } }];
  });
}

/** The Prometheus config: one static target per annotated pod template, at the local port of its process. */
export function scrapeConfig(targets: AnnotatedTarget[], localPort: (target: AnnotatedTarget) => number, intervalSeconds = 1): object {
  return {
    global: { scrape_interval: `${intervalSeconds}s`, scrape_timeout: `${intervalSeconds}s`, evaluation_interval: `${intervalSeconds}s` },
    scrape_configs: [
      {
        job_name: 'kubernetes-pods',
        static_configs: targets.map((t) => ({
          targets: [`127.0.0.1:${localPort(t)}`],
          // `__metrics_path__` is what the cluster job's relabelling sets from prometheus.io/path.
          labels: { ...t.labels, pod: t.deployment, __metrics_path__: t.path },
        })),
      },
    ],
  };
}
