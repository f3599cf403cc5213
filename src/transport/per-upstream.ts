/** One transport over several: each call goes over the one its upstream is called with (HTTP or gRPC, per edge). */
import type { Upstream } from '../config/settings';
import type { UpstreamTransport } from './upstream';

export function perUpstream(pick: (upstream: Upstream) => UpstreamTransport): UpstreamTransport {
  return {
    describe: (upstream) => pick(upstream).describe(upstream),
    answerAttributes: (upstream, answer) => pick(upstream).answerAttributes(upstream, answer),
    call: (call) => pick(call.upstream).call(call),
  };
}
