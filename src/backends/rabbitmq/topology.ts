/**
 * The topology of a queue Q: durable Q whose dead letters go to the direct exchange `Q.dlx`, bound to the durable queue
 * `Q.dead-letter`. A message the consumer can never handle is republished there with the reason in the `x-death-reason` header.
 */
import type { Channel } from 'amqplib';
import { DEAD_LETTER_EXCHANGE_SUFFIX, DEAD_LETTER_QUEUE_SUFFIX } from '../../config/queue-name';

export const DEATH_REASON_HEADER = 'x-death-reason';
export const deadLetterQueue = (queue: string) => `${queue}${DEAD_LETTER_QUEUE_SUFFIX}`;
export const deadLetterExchange = (queue: string) => `${queue}${DEAD_LETTER_EXCHANGE_SUFFIX}`;

export async function declareTopology(channel: Channel, queue: string): Promise<void> {
  await channel.assertExchange(deadLetterExchange(queue), 'direct', { durable: true });
  await channel.assertQueue(deadLetterQueue(queue), { durable: true });
  await channel.bindQueue(deadLetterQueue(queue), deadLetterExchange(queue), queue);
  await channel.assertQueue(queue, {
    durable: true,
    arguments: { 'x-dead-letter-exchange': deadLetterExchange(queue), 'x-dead-letter-routing-key': queue },
  });
}
