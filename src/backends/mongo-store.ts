/**
 * GreetingStore on MongoDB: one pooled MongoClient per process (the original opened a client per insert), a unique index on `id` so
 * a redelivered message is recognised as a duplicate instead of stored twice, and readiness that follows the driver's own view of
 * the server. The driver reconnects by itself; this class only has to turn its failures into clear, credential-free reasons.
 */
import {
  MongoBulkWriteError,
  MongoClient,
  MongoNetworkError,
  MongoServerSelectionError,
  type Collection,
  type MongoClientOptions,
  type TopologyDescription,
} from 'mongodb';
import { collectionName } from '../config/facts';
import type { StoreTarget } from '../config/schema';
import { ConfigError } from '../config/config-error';
import type { Greeting } from '../greeting';
import { InsertBatcher, type BatchResult } from './insert-batcher';
import type { BackendLog, GreetingStore, InsertOutcome } from './types';
import { redactSecrets, redactUrl } from './redact';

/** The server's code for a unique-index violation (MongoDB and FerretDB both answer it). */
const DUPLICATE_KEY = 11000;

/** Servers that accept writes; anything else (Unknown, secondaries, arbiters) means "not ready". */
const WRITABLE = new Set(['Standalone', 'RSPrimary', 'Mongos', 'LoadBalancer']);

export interface MongoStoreOptions {
  /** Collections whose index is created at connect; any other target gets its index before its first insert. */
  targets?: StoreTarget[];
  /**
   * How long an operation waits for a usable server. The driver's default (30 s) would hold a request far past any upstream
   * timeout; 3 s lets the storing role answer 503 while its caller is still waiting. A value in the URL wins.
   */
  serverSelectionTimeoutMS?: number;
  /** How often the driver probes the server; this bounds how fast readiness turns true again after an outage. A value in the URL wins. */
  heartbeatFrequencyMS?: number;
  log?: BackendLog;
}

/** The store could not do what was asked: the message is a reason fit for a 503 body (no credentials). */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';
}

/**
 * A greeting as stored: the original platform's field names (its Go struct had no bson tags, so the driver lower-cased them),
 * so what reads its collections (mongo-express views, the queries in its blog posts) reads ours. The API keeps `service`
 * and `created`.
 */
interface GreetingDocument {
  id: string;
  servicename: string;
  message: string;
  createdat: Date;
  hostname: string;
  /** Ours, after the original's fields (its readers ignore it): which version of the role made the greeting. */
  version?: string;
}

export class MongoStore implements GreetingStore {
  readonly kind = 'mongodb' as const;
  private readonly client: MongoClient;
  /** One index build per collection, shared by concurrent inserts; forgotten on failure so the next insert tries again. */
  private readonly indexes = new Map<string, Promise<void>>();
  /** The driver's view: some server in the topology accepts writes. */
  private writable = false;
  /** Our own view: the last operation failed for lack of a server, and no heartbeat has succeeded since. */
  private failing = false;
  private closed = false;
  /** The last failure, as a caller may see it (no credentials): what readiness says while not ready. */
  private lastProblem?: string;
  /** The first successful connect, shared by every caller; forgotten on failure so the next caller tries again. */
  private connecting?: Promise<void>;
  private retryTimer?: ReturnType<typeof setTimeout>;
  private recoveryTimer?: ReturnType<typeof setTimeout>;

  constructor(
    private readonly url: string,
    private readonly options: MongoStoreOptions = {},
  ) {
    try {
      this.client = new MongoClient(url, clientOptions(url, options));
    } catch (err) {
      // The driver's own parser is the judge of a connection string: what it refuses can never connect, so the start ends here.
      throw new ConfigError([{ file: 'environment', path: 'MONGO_CONN', reason: `the MongoDB driver refuses it: ${redactSecrets((err as Error).message, url)}` }]);
    }
    // Topology events are the driver's verdict, updated by its heartbeats. A heartbeat already under way when the server goes
    // can take up to connectTimeoutMS to fail, so a failed operation also turns readiness off at once (see `failing`).
    this.client.on('topologyDescriptionChanged', (event) => {
      const wasReady = this.isReady();
      this.writable = hasWritableServer(event.newDescription);
      this.reportChange(wasReady);
      if (!this.isReady()) this.watchRecovery();
    });
    this.client.on('serverHeartbeatSucceeded', () => {
      const wasReady = this.isReady();
      this.failing = false;
      this.reportChange(wasReady);
    });
  }

  async connect(): Promise<void> {
    await this.connected();
    await Promise.all((this.options.targets ?? []).map((t) => this.ensureIndex(t)));
  }

  async insert(target: StoreTarget, greeting: Greeting): Promise<InsertOutcome> {
    const created = new Date(greeting.created);
    if (Number.isNaN(created.getTime())) throw new TypeError(`greeting ${greeting.id}: created is not a time`);
    await this.connected();
    await this.ensureIndex(target);
    const doc: GreetingDocument = {
      id: greeting.id,
      servicename: greeting.service,
      message: greeting.message,
      createdat: created,
      hostname: greeting.hostname,
    };
    if (greeting.version) doc.version = greeting.version;
    return this.batcherOf(target).insert(doc);
  }

  /** One batcher per target: every insert of one turn of the event loop, one insertMany (insert-batcher.ts). */
  private readonly batchers = new Map<string, InsertBatcher<GreetingDocument>>();

  private batcherOf(target: StoreTarget): InsertBatcher<GreetingDocument> {
    const key = collectionName(target);
    let batcher = this.batchers.get(key);
    if (!batcher) this.batchers.set(key, (batcher = new InsertBatcher((docs) => this.insertMany(target, docs))));
    return batcher;
  }

  /**
   * Unordered, so one duplicate does not stop the others. When the server answered, each document's outcome is in its
   * answer: the write errors name the refused ones (11000 is a duplicate) and every other one was inserted. When no answer
   * came (a bulk error without write errors: the connection went), none is known to be stored, and all fail.
   */
  private async insertMany(target: StoreTarget, docs: GreetingDocument[]): Promise<BatchResult> {
    try {
      await this.collection(target).insertMany(docs, { ordered: false });
      return { perDocument: docs.map(() => 'stored' as const) };
    } catch (err) {
      const writeErrors = err instanceof MongoBulkWriteError ? [err.writeErrors].flat().filter(Boolean) : [];
      if (writeErrors.length === 0) {
        // A bulk error with no write errors is a write no server answered: the store is failing, whatever class wraps it.
        this.noteFailure(err, err instanceof MongoBulkWriteError);
        return { failedAll: this.unavailable(`insert into ${collectionName(target)}`, err) };
      }
      const perDocument: (InsertOutcome | Error)[] = docs.map(() => 'stored');
      for (const e of writeErrors)
        perDocument[e.index] = e.code === DUPLICATE_KEY ? 'duplicate' : this.unavailable(`insert into ${collectionName(target)}`, new Error(e.errmsg ?? `code ${e.code}`));
      return { perDocument };
    }
  }

  isReady(): boolean {
    return this.writable && !this.failing && !this.closed;
  }

  notReadyReason(): string | undefined {
    if (this.isReady()) return undefined;
    return this.closed ? 'closed' : this.lastProblem ?? 'no writable MongoDB server yet';
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.recoveryTimer);
    await this.client.close();
  }

  /**
   * Once connected, the driver keeps the pool and reconnects by itself. A connect that failed (server down at start-up) leaves
   * the client closed, though, so it is retried here: by the next operation, and in the background so readiness recovers even
   * when nothing is written.
   */
  private connected(): Promise<void> {
    if (this.closed) return Promise.reject(new StoreUnavailableError('MongoDB store is closed'));
    this.connecting ??= this.client.connect().then(
      () => {
        clearTimeout(this.retryTimer);
        this.retryTimer = undefined;
      },
      (err: unknown) => {
        this.connecting = undefined;
        this.noteFailure(err);
        this.retryInBackground();
        throw this.unavailable('connect', err);
      },
    );
    return this.connecting;
  }

  private retryInBackground(): void {
    if (this.closed || this.retryTimer) return;
    const every = this.options.heartbeatFrequencyMS ?? 2_000;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.connected().catch(() => undefined);
    }, every);
    this.retryTimer.unref?.();
  }

  private collection(target: StoreTarget): Collection<GreetingDocument> {
    return this.client.db(target.database).collection<GreetingDocument>(target.collection);
  }

  private ensureIndex(target: StoreTarget): Promise<void> {
    const key = collectionName(target);
    let pending = this.indexes.get(key);
    if (!pending) {
      pending = this.collection(target)
        .createIndex({ id: 1 }, { unique: true, name: 'id_unique' })
        .then(() => undefined)
        .catch((err: unknown) => {
          this.indexes.delete(key);
          this.noteFailure(err);
          throw this.unavailable(`create the unique index on ${key}.id`, err);
        });
      this.indexes.set(key, pending);
    }
    return pending;
  }

  private noteFailure(err: unknown, unanswered = false): void {
    if (!unanswered && !(err instanceof MongoNetworkError || err instanceof MongoServerSelectionError)) return;
    const wasReady = this.isReady();
    this.failing = true;
    this.reportChange(wasReady);
    this.watchRecovery();
  }

  /**
   * While not ready, ping the server at the heartbeat pace. The driver's events normally end an outage first; this is the
   * safety net for a heartbeat that hangs (seen with a server that keeps old connections open while shutting down), which
   * would otherwise leave readiness false after the server is long back.
   */
  private watchRecovery(): void {
    if (this.closed || this.recoveryTimer) return;
    this.recoveryTimer = setTimeout(async () => {
      try {
        await this.client.db('admin').command({ ping: 1 });
        // The command went through server selection for a primary (the default read preference): a writable server is there.
        const wasReady = this.isReady();
        this.failing = false;
        this.writable = true;
        this.reportChange(wasReady);
      } catch {
        // Still down; keep watching.
      } finally {
        this.recoveryTimer = undefined;
        if (!this.isReady()) this.watchRecovery();
      }
    }, this.options.heartbeatFrequencyMS ?? 2_000);
    this.recoveryTimer.unref?.();
  }

  private reportChange(wasReady: boolean): void {
    const ready = this.isReady();
    if (ready !== wasReady && !this.closed)
      this.options.log?.[ready ? 'info' : 'warn'](`MongoDB ${ready ? 'available' : 'unavailable'} at ${redactUrl(this.url)}`);
  }

  private unavailable(action: string, err: unknown): StoreUnavailableError {
    const detail = err instanceof Error ? err.message : String(err);
    this.lastProblem = redactSecrets(`MongoDB could not ${action}: ${detail}`, this.url);
    return new StoreUnavailableError(this.lastProblem);
  }
}

function clientOptions(url: string, options: MongoStoreOptions): MongoClientOptions {
  const inUrl = urlOptionNames(url);
  const result: MongoClientOptions = { appName: 'greeting-mesh' };
  if (!inUrl.has('serverselectiontimeoutms')) result.serverSelectionTimeoutMS = options.serverSelectionTimeoutMS ?? 3_000;
  if (!inUrl.has('heartbeatfrequencyms')) result.heartbeatFrequencyMS = options.heartbeatFrequencyMS ?? 2_000;
  // A server that stops answering without closing the socket must not hold a request forever.
  if (!inUrl.has('sockettimeoutms')) result.socketTimeoutMS = 10_000;
  if (!inUrl.has('connecttimeoutms')) result.connectTimeoutMS = 3_000;
  return result;
}

function urlOptionNames(url: string): Set<string> {
  const query = url.split('?')[1] ?? '';
  return new Set([...new URLSearchParams(query).keys()].map((k) => k.toLowerCase()));
}

function hasWritableServer(description: TopologyDescription): boolean {
  if (description.type === 'LoadBalanced') return true;
  for (const server of description.servers.values()) if (WRITABLE.has(server.type)) return true;
  return false;
}


