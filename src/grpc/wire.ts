/**
 * How a role's answer is said in gRPC, in both directions (the counterpart of http/wire.ts):
 *
 * | outcome | status | message |
 * |---|---|---|
 * | whole | OK | GreetingResponse |
 * | partial | UNAVAILABLE (the REST 502 in gRPC's mapping) | the whole GreetingResponse in the status details |
 * | refused (a store or broker is down) | UNAVAILABLE (the REST 503) | the reason |
 * | failed (the role itself) | INTERNAL (the REST 500) | the reason |
 *
 * A unary call that does not end OK carries no response message, so a partial answer travels where gRPC's richer error
 * model puts it: `grpc-status-details-bin`, a google.rpc.Status whose one detail is the GreetingResponse (greetings and the
 * error entries in place of the failed subtrees). Every hop thus says "partial" in its status, as every REST hop says 502,
 * and a client that reads details (ours, grpcurl) still gets every greeting that arrived. The `greeting-outcome` trailer
 * names the outcome, and `server-timing` carries the per-hop timings, in Server-Timing syntax.
 */
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { anyPack, anyUnpack } from '@bufbuild/protobuf/wkt';
import { status as Status } from '@grpc/grpc-js';
import type { RoleAnswer } from '../greeting';
import { StatusSchema } from './gen/google/rpc/status_pb';
import { GreetingResponseSchema, type GreetingResponse } from './gen/greeting/v3/greeting_pb';

export const DETAILS_KEY = 'grpc-status-details-bin';
export const OUTCOME_KEY = 'greeting-outcome';
export const TIMING_KEY = 'server-timing';

export const CODE_OF: Record<RoleAnswer['outcome'], Status> = {
  whole: Status.OK,
  partial: Status.UNAVAILABLE,
  refused: Status.UNAVAILABLE,
  failed: Status.INTERNAL,
};

/** The status details that carry a partial answer. */
export function partialDetails(response: GreetingResponse, message: string): Buffer {
  const status = create(StatusSchema, { code: Status.UNAVAILABLE, message, details: [anyPack(GreetingResponseSchema, response)] });
  return Buffer.from(toBinary(StatusSchema, status));
}

/** The GreetingResponse in a call's status details, when it ended with a partial answer; undefined otherwise. */
export function responseInDetails(details: Buffer | undefined): GreetingResponse | undefined {
  if (!details) return undefined;
  try {
    const status = fromBinary(StatusSchema, details);
    for (const detail of status.details) {
      const response = anyUnpack(detail, GreetingResponseSchema);
      if (response) return response;
    }
  } catch {
    // Not a google.rpc.Status: no answer in it.
  }
  return undefined;
}
