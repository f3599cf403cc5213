/**
 * The few API calls the gate makes, straight to the API server's REST API (no kubectl in between, so every answer is the
 * server's own): discovery, server-side apply (real or dry run, strict field validation), get, the scale subresource.
 */

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; [field: string]: unknown };
  [field: string]: any;
}

interface Resource {
  plural: string;
  namespaced: boolean;
}

export interface ApiAnswer {
  status: number;
  body: any;
}

/** Who applies: the field manager the gate's objects are owned by, as `kubectl apply --server-side` would be. */
export const FIELD_MANAGER = 'greeting-mesh';

export function objectName(o: K8sObject): string {
  return `${o.kind}/${o.metadata.name}`;
}

/** The server's reason, as kubectl prints it: the Status message, which lists every invalid field. */
export function statusMessage(answer: ApiAnswer): string {
  const body = answer.body;
  if (body && typeof body === 'object' && typeof body.message === 'string') return body.message;
  return `HTTP ${answer.status}: ${typeof body === 'string' ? body.slice(0, 500) : JSON.stringify(body)}`;
}

export class KubeClient {
  private resources = new Map<string, Resource>();

  constructor(
    readonly server: string,
    private readonly token: string,
    private readonly ca: string,
  ) {}

  async request(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<ApiAnswer> {
    const response = await fetch(`${this.server}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': contentType }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      tls: { ca: this.ca },
    } as RequestInit);
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Not JSON (healthz answers "ok"): keep the text.
    }
    return { status: response.status, body: parsed };
  }

  /** Reads the server's resource list, again after CRDs are added. */
  async discover(): Promise<void> {
    const groupVersions = ['v1'];
    const groups = await this.request('GET', '/apis');
    for (const group of groups.body.groups ?? []) for (const v of group.versions) groupVersions.push(v.groupVersion);
    this.resources.clear();
    for (const gv of groupVersions) {
      const list = await this.request('GET', gv === 'v1' ? '/api/v1' : `/apis/${gv}`);
      for (const r of list.body.resources ?? []) {
        if (r.name.includes('/')) continue;
        this.resources.set(`${gv}/${r.kind}`, { plural: r.name, namespaced: r.namespaced });
      }
    }
  }

  knows(apiVersion: string, kind: string): boolean {
    return this.resources.has(`${apiVersion}/${kind}`);
  }

  path(o: Pick<K8sObject, 'apiVersion' | 'kind'> & { metadata: { name?: string; namespace?: string } }, subresource = ''): string {
    const resource = this.resources.get(`${o.apiVersion}/${o.kind}`);
    if (!resource) throw new Error(`the API server serves no ${o.kind} in ${o.apiVersion}`);
    const base = o.apiVersion.includes('/') ? `/apis/${o.apiVersion}` : `/api/${o.apiVersion}`;
    const ns = resource.namespaced ? `/namespaces/${o.metadata.namespace ?? 'default'}` : '';
    const name = o.metadata.name ? `/${o.metadata.name}` : '';
    return `${base}${ns}/${resource.plural}${name}${subresource}`;
  }

  isNamespaced(o: Pick<K8sObject, 'apiVersion' | 'kind'>): boolean {
    return this.resources.get(`${o.apiVersion}/${o.kind}`)?.namespaced ?? true;
  }

  /**
   * Server-side apply, as `kubectl apply --server-side --force-conflicts` does, with strict field validation: an unknown or
   * duplicated field is an error, not a warning (and not silently pruned from a custom resource).
   */
  apply(o: K8sObject, options: { dryRun?: boolean; manager?: string } = {}): Promise<ApiAnswer> {
    const query = new URLSearchParams({ fieldManager: options.manager ?? FIELD_MANAGER, fieldValidation: 'Strict', force: 'true' });
    if (options.dryRun) query.set('dryRun', 'All');
    return this.request('PATCH', `${this.path(o)}?${query}`, o, 'application/apply-patch+yaml');
  }

  get(o: K8sObject, subresource = ''): Promise<ApiAnswer> {
    return this.request('GET', this.path(o, subresource));
  }

  delete(o: K8sObject): Promise<ApiAnswer> {
    return this.request('DELETE', this.path(o));
  }

  /** What the HorizontalPodAutoscaler controller does: set replicas through the scale subresource, as its own manager. */
  scale(o: K8sObject, replicas: number, manager: string): Promise<ApiAnswer> {
    const query = new URLSearchParams({ fieldManager: manager });
    return this.request('PATCH', `${this.path(o, '/scale')}?${query}`, { spec: { replicas } }, 'application/merge-patch+json');
  }
}
