/**
 * What RabbitMQ takes as a queue name, checked where the name is given (the config, QUEUE_NAME) so a bad one is exit 78 at
 * start instead of a publisher answering 503 and a consumer reconnecting for ever. A name is an AMQP short string (at most 255
 * bytes of UTF-8), `amq.` names are the broker's own (it refuses to declare them), and each queue Q brings its dead-letter
 * queue and exchange, whose names are Q plus a suffix and must fit too.
 */
export const DEAD_LETTER_QUEUE_SUFFIX = '.dead-letter';
export const DEAD_LETTER_EXCHANGE_SUFFIX = '.dlx';

const MAX_NAME_BYTES = 255 - DEAD_LETTER_QUEUE_SUFFIX.length;

export function queueNameProblem(name: string): string | undefined {
  if (name === '') return 'is empty';
  if (name.startsWith('amq.')) return `'${name.slice(0, 64)}' starts with 'amq.', which RabbitMQ keeps for its own queues`;
  if (/[\x00-\x1f\x7f]/.test(name)) return 'contains a control character';
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > MAX_NAME_BYTES) return `is ${bytes} bytes long: at most ${MAX_NAME_BYTES}, so that its dead-letter queue's name ('${DEAD_LETTER_QUEUE_SUFFIX}' added) fits RabbitMQ's 255`;
  return undefined;
}
