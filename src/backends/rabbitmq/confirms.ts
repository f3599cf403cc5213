/**
 * Publishing with publisher confirms: a publish resolves only on the broker's confirm, rejects when the broker refuses it,
 * when no confirm comes in time, or when the session is lost first. Pending publishes are tracked so a lost session fails
 * them at once and a close waits for their confirms.
 */
import type { Options } from 'amqplib';
import type { Session } from './connection';
import { errorText, QueueUnavailableError } from './errors';

interface Pending {
  fail: (err: Error) => void;
  done: Promise<void>;
}

export class Confirms {
  private readonly pending = new Set<Pending>();

  constructor(
    private readonly timeoutMs: number,
    private readonly unavailable: (action: string, err: unknown) => QueueUnavailableError,
  ) {}

  publish(session: Session, exchange: string, key: string, body: Buffer, props: Options.Publish): Promise<void> {
    let entry!: Pending;
    const done = new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (err?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.pending.delete(entry);
        if (err) reject(err);
        else resolve();
      };
      const timer = setTimeout(() => settle(new QueueUnavailableError(`RabbitMQ did not confirm within ${this.timeoutMs} ms`)), this.timeoutMs);
      entry = { fail: settle, done: Promise.resolve() };
      this.pending.add(entry);
      try {
        session.channel.publish(exchange, key, body, props, (err: unknown) =>
          settle(err ? new QueueUnavailableError(`RabbitMQ refused the message: ${errorText(err)}`) : undefined),
        );
      } catch (err) {
        settle(this.unavailable('publish', err));
      }
    });
    entry.done = done.then(
      () => undefined,
      () => undefined,
    );
    return done;
  }

  /** The session went before these were confirmed: they may or may not be stored, and their callers must not wait to hear. */
  failAll(err: Error): void {
    for (const p of this.pending) p.fail(err);
  }

  /** Resolves once every publish already sent has its confirm, refusal or timeout. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.pending].map((p) => p.done));
  }
}
