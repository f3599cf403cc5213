/**
 * What N whole requests to the edge must add to each role's counters, derived from the topology: N greeting requests
 * answered 200 by every role the request reaches, N calls to each upstream answered 200, N store writes, N confirmed
 * publishes, and N acked messages (and their N writes) at the consumer.
 */
import type { PlatformConfig } from '../../src/config/schema';
import { parseSamples, total, type Sample } from './prom-text';

export interface ExpectedCount {
  role: string;
  name: string;
  labels: Record<string, string>;
}

/**
 * `transport`: every hop over HTTP or over gRPC. The edge is asked over HTTP either way; a role called over gRPC counts its
 * requests in the conventional gRPC series, and its callers' upstream outcome is the gRPC code.
 */
export function expectedCounts(config: PlatformConfig, { queueLeg, transport = 'http' }: { queueLeg: boolean; transport?: 'http' | 'grpc' }): ExpectedCount[] {
  const counts: ExpectedCount[] = [];
  const grpcLabels = { grpc_service: 'greeting.v3.GreetingService', grpc_method: 'Greeting' };
  for (const [id, role] of Object.entries(config.services)) {
    if (role.consume) {
      if (!queueLeg) continue;
      const { queue, store } = role.consume;
      counts.push({ role: id, name: 'amqp_messages_consumed_total', labels: { queue, disposition: 'acked' } });
      counts.push({ role: id, name: 'mongodb_operation_duration_seconds_count', labels: { collection: `${store.database}.${store.collection}`, result: 'ok' } });
      continue;
    }
    if (transport === 'http' || role.edge) {
      counts.push({ role: id, name: 'http_server_requests_total', labels: { method: 'GET', route: '/api/greeting', status: '200' } });
      counts.push({ role: id, name: 'http_server_request_duration_seconds_count', labels: { route: '/api/greeting', status: '200' } });
    } else {
      counts.push({ role: id, name: 'grpc_server_handled_total', labels: { ...grpcLabels, grpc_code: 'OK' } });
      counts.push({ role: id, name: 'grpc_server_handling_seconds_count', labels: grpcLabels });
    }
    for (const up of role.upstreams)
      counts.push({ role: id, name: 'upstream_request_duration_seconds_count', labels: { upstream: up, outcome: transport === 'grpc' ? 'OK' : '200' } });
    // gRPC's own client series has no upstream label: N calls per upstream.
    if (transport === 'grpc' && role.upstreams.length === 1) counts.push({ role: id, name: 'grpc_client_handled_total', labels: { ...grpcLabels, grpc_code: 'OK' } });
    if (role.store) {
      const collection = `${role.store.database}.${role.store.collection}`;
      counts.push({ role: id, name: 'mongodb_operation_duration_seconds_count', labels: { collection, operation: 'insert', result: 'ok' } });
    }
    if (role.publish) counts.push({ role: id, name: 'amqp_messages_published_total', labels: { queue: role.publish.queue, result: 'confirmed' } });
  }
  return counts;
}

export async function scrapeAll(config: PlatformConfig, url: (id: string) => string): Promise<Map<string, Sample[]>> {
  const scrapes = new Map<string, Sample[]>();
  await Promise.all(
    Object.keys(config.services).map(async (id) => {
      const response = await fetch(`${url(id)}/api/metrics`);
      if (response.status !== 200) throw new Error(`${id}: /api/metrics answered ${response.status}`);
      scrapes.set(id, parseSamples(await response.text()));
    }),
  );
  return scrapes;
}

/** Each expected counter's growth between two scrapes that differs from `n`, as readable lines (empty: all as expected). */
export function countProblems(expected: ExpectedCount[], before: Map<string, Sample[]>, after: Map<string, Sample[]>, n: number): string[] {
  return expected.flatMap(({ role, name, labels }) => {
    const grew = total(after.get(role)!, name, labels) - total(before.get(role)!, name, labels);
    return grew === n ? [] : [`${role}: ${name}${JSON.stringify(labels)} grew by ${grew}, want ${n}`];
  });
}
