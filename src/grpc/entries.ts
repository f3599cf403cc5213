/**
 * The protocol-neutral answer (the REST array: greetings and error entries, in order) to and from GreetingResponse.
 * Greetings go in `greeting` (field 1, what the original's clients read); error entries go in `upstream_error` (field 2, which
 * those clients skip), each with its `position`: how many greetings come before it. Decoding interleaves them back, so
 * entries -> response -> entries gives the same array.
 */
import { create } from '@bufbuild/protobuf';
import {
  GreetingResponseSchema,
  GreetingSchema,
  UpstreamErrorSchema,
  type GreetingResponse,
} from './gen/greeting/v3/greeting_pb';
import { greetingProblem, isUpstreamError, type Greeting, type GreetingEntry } from '../greeting';

export function toResponse(entries: GreetingEntry[]): GreetingResponse {
  const response = create(GreetingResponseSchema);
  for (const entry of entries) {
    if (isUpstreamError(entry)) {
      response.upstreamError.push(
        create(UpstreamErrorSchema, { service: entry.service, error: entry.error, upstream: entry.upstream, position: response.greeting.length }),
      );
    } else {
      const { id, service, message, created, hostname, version = '' } = entry;
      response.greeting.push(create(GreetingSchema, { id, service, message, created, hostname, version }));
    }
  }
  return response;
}

/** The entries of an answer, or why they are not usable (a greeting that is not well-formed, an error out of place). */
export function fromResponse(response: GreetingResponse): { entries: GreetingEntry[] } | { problem: string } {
  const entries: GreetingEntry[] = [];
  let next = 0;
  const greetingsUpTo = (position: number) => {
    for (; next < position && next < response.greeting.length; next++) {
      const { id, service, message, created, hostname, version } = response.greeting[next]!;
      const greeting: Greeting = { id, service, message, created, hostname };
      // proto3 has no "absent" for a string: an original upstream's greeting comes with version "", which is no version.
      if (version) greeting.version = version;
      entries.push(greeting);
    }
  };
  let last = 0;
  for (const error of response.upstreamError) {
    if (error.position < last || error.position > response.greeting.length)
      return { problem: `upstream error for ${error.service} at position ${error.position} of ${response.greeting.length}` };
    last = error.position;
    greetingsUpTo(error.position);
    entries.push({ service: error.service, error: error.error, upstream: error.upstream });
  }
  greetingsUpTo(response.greeting.length);
  for (const entry of entries) {
    if (isUpstreamError(entry)) continue;
    const problem = greetingProblem(entry);
    if (problem) return { problem: `a greeting ${problem}` };
  }
  return { entries };
}
