/**
 * What one request to the edge must leave in Zipkin, derived from the topology (not hard-coded, so a new role is checked
 * too): a SERVER span per role the request reaches, a CLIENT span per call whose callee's SERVER span is its child, a store
 * span under every storing role's SERVER span, a PRODUCER span under the publisher's, and the consumer's CONSUMER span
 * under that PRODUCER span with its own store span beneath. Returns every broken expectation, readable in a test failure.
 */
import type { PlatformConfig } from '../../src/config/schema';
import type { ZipkinSpan } from '../support/zipkin-collector';

export interface TraceExpectation {
  /** Whether the message leg (producer to consumer) must be in the trace: it needs a queue both roles share. */
  queueLeg: boolean;
}

const service = (id: string) => `service-${id}`;

export function traceProblems(config: PlatformConfig, spans: ZipkinSpan[], { queueLeg }: TraceExpectation): string[] {
  const problems: string[] = [];
  const find = (id: string, kind: ZipkinSpan['kind'], match: (s: ZipkinSpan) => boolean = () => true, parent?: ZipkinSpan) => {
    const found = spans.filter((s) => s.localEndpoint.serviceName === service(id) && s.kind === kind && match(s));
    const where = `${kind} span of ${service(id)}${parent ? ` under ${parent.localEndpoint.serviceName}'s ${parent.kind} span` : ''}`;
    if (found.length !== 1) {
      problems.push(`expected one ${where}, found ${found.length}`);
      return undefined;
    }
    const span = found[0]!;
    if (parent && span.parentId !== parent.id) problems.push(`${where}: parentId is ${span.parentId}, want ${parent.id}`);
    return span;
  };

  const traceIds = new Set(spans.map((s) => s.traceId));
  if (traceIds.size !== 1) problems.push(`expected one trace id, found ${[...traceIds].join(', ')}`);
  const edge = Object.keys(config.services).find((id) => config.services[id]!.edge)!;
  const root = find(edge, 'SERVER');
  if (root && root.parentId) problems.push(`the edge's SERVER span should be the root, has parent ${root.parentId}`);

  const visit = (id: string, server: ZipkinSpan | undefined) => {
    if (!server) return;
    const role = config.services[id]!;
    for (const up of role.upstreams) {
      const client = find(id, 'CLIENT', (s) => s.tags?.['peer.service'] === service(up), server);
      if (!client) continue;
      // Over HTTP the status is 200; over gRPC it is OK (code 0).
      const status = client.tags?.['http.response.status_code'] ?? client.tags?.['rpc.grpc.status_code'];
      if (status !== '200' && status !== '0') problems.push(`call ${id} -> ${up} answered ${status}`);
      visit(up, find(up, 'SERVER', () => true, client));
    }
    if (role.store) find(id, 'CLIENT', (s) => s.tags?.['db.collection.name'] === role.store!.collection && s.tags?.['db.namespace'] === role.store!.database, server);
    if (role.publish) {
      const producer = find(id, 'PRODUCER', (s) => s.tags?.['messaging.destination.name'] === role.publish!.queue, server);
      if (!queueLeg || !producer) return;
      for (const [consumerId, consumer] of Object.entries(config.services)) {
        if (consumer.consume?.queue !== role.publish.queue) continue;
        const consumed = find(consumerId, 'CONSUMER', () => true, producer);
        if (consumed) find(consumerId, 'CLIENT', (s) => s.tags?.['db.collection.name'] === consumer.consume!.store.collection, consumed);
      }
    }
  };
  visit(edge, root);

  const reached = new Set(spans.map((s) => s.localEndpoint.serviceName));
  const expected = Object.keys(config.services)
    .filter((id) => queueLeg || !config.services[id]!.consume)
    .map(service);
  const missing = expected.filter((s) => !reached.has(s));
  if (missing.length > 0) problems.push(`no spans from ${missing.join(', ')}`);
  return problems;
}

/** How many spans one whole request makes. */
export function spansPerRequest(config: PlatformConfig, { queueLeg }: TraceExpectation): number {
  let n = 0;
  for (const role of Object.values(config.services)) {
    if (role.consume) {
      if (queueLeg) n += 2;
      continue;
    }
    n += 1 + role.upstreams.length + (role.store ? 1 : 0) + (role.publish ? 1 : 0);
  }
  return n;
}
