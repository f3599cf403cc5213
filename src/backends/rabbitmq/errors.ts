/** How RabbitMQ failures are told: as a reason fit for a 503 body and a readiness report, never with the URL's password. */

/** The broker could not take or confirm a message: the message is a reason fit for a 503 body (no credentials). */
export class QueueUnavailableError extends Error {
  override name = 'QueueUnavailableError';
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * A queue that exists with other arguments than ours: RabbitMQ refuses the declaration (406 PRECONDITION_FAILED) and closes the
 * channel. The original platform declares `service-d.greeting` non-durable and without a dead-letter exchange, so on a broker
 * where it ran first this is what happens; the reason says what to do (README: "Sharing infrastructure with the original").
 */
export function queueConflict(text: string): string | undefined {
  const m = /PRECONDITION_FAILED - inequivalent arg '([^']+)' for queue '([^']+)'[^:]*: received ([^ ]+) but current is ([^ "]+)/.exec(text);
  if (!m) return undefined;
  const [, arg, queue, ours, theirs] = m;
  return (
    `queue '${queue}' already exists on the broker with ${arg} ${theirs} where greeting-mesh declares ${ours} ` +
    `(the original platform declares it non-durable): delete it (rabbitmqctl delete_queue ${queue}; its messages are lost) ` +
    `or set QUEUE_NAME to another queue`
  );
}
