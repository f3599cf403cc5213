/**
 * The header a dark launch routes by survives every hop: sent to A, it reaches the call E makes to H, three hops down, which
 * is where E's sidecar decides between H's versions. The chain is the real binary, one process per role; H is a recorder
 * that answers as H would and keeps the headers of the call it got. Over HTTP and over gRPC (metadata), and a value that
 * cannot travel is dropped at the edge, named, and the request goes on as one without the header.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { loadConfig } from '../../src/config/settings';
import { makeGreeting } from '../../src/greeting';
import { ProcessPlatform } from '../../src/platform/processes';
import { ROUTING_HEADER, ROUTING_HEADERS } from '../../src/serving/routing-headers';
import { serviceBinary } from '../../scripts/artifacts';
import { upstreamServer } from '../support/upstream-server';

const { config } = loadConfig();

for (const transport of ['http', 'grpc'] as const) {
  describe(`over ${transport}`, () => {
    const seen: Record<string, string>[] = [];
    const h = upstreamServer({
      body: (headers: Record<string, string>) => {
        seen.push(headers);
        return [makeGreeting('Service H', 'recorded', 'v1')];
      },
    });
    let platform: ProcessPlatform;
    beforeAll(async () => {
      platform = new ProcessPlatform(config, {
        command: [serviceBinary()],
        // The platform is told the transport too, so it hands each role a free gRPC port (GRPC_PORT): told only through the
        // roles' TRANSPORT, each took its config port + 10000, fixed ports a free port picked for another role could be.
        transport,
        env: { DRAIN_DELAY_MS: '0', LOG_LEVEL: 'warn', ...(transport === 'grpc' ? { TRANSPORT: 'grpc' } : {}) },
        // E calls the recorder in H's place, over HTTP whatever the other hops use: what E forwards is what H's route sees.
        roleEnv: { e: { SERVICE_H_URL: h.url } },
      });
      await platform.start();
    }, 60_000);
    afterAll(async () => {
      await platform.stop();
      h.stop();
    });

    test(`${ROUTING_HEADERS.join(', ')} sent to A arrives on E's call to H`, async () => {
      seen.length = 0;
      const response = await fetch(`${platform.url('a')}/api/greeting`, { headers: { [ROUTING_HEADER]: 'jason' } });
      expect(response.status).toBe(200);
      expect(seen).toHaveLength(1);
      expect(seen[0]![ROUTING_HEADER]).toBe('jason');
    });

    test('without the header, none is made up', async () => {
      seen.length = 0;
      expect((await fetch(`${platform.url('a')}/api/greeting`)).status).toBe(200);
      expect(seen[0]![ROUTING_HEADER]).toBeUndefined();
    });

    test('a value too long to forward is dropped at the edge and named in X-Ignored-Headers; the call goes on without it', async () => {
      seen.length = 0;
      const response = await fetch(`${platform.url('a')}/api/greeting`, { headers: { [ROUTING_HEADER]: 'j'.repeat(129) } });
      expect(response.status).toBe(200);
      expect(response.headers.get('x-ignored-headers')).toBe(`${ROUTING_HEADER} (not up to 128 printable ASCII characters)`);
      expect(seen[0]![ROUTING_HEADER]).toBeUndefined();
    });
  });
}
