/**
 * Validates a platform config and reports every problem at once, each with the file, the JSON path and the reason,
 * so a bad edit is fixed in one round instead of one error per start.
 */
import { Value } from '@sinclair/typebox/value';
import { localGrpcPort, roleVersion, versionFacts } from './facts';
import { originProblem } from './origins';
import { queueNameProblem } from './queue-name';
import { ConfigError, type ConfigProblem } from './config-error';
import { PlatformConfig, RoleConfig, VERSION_FIELDS } from './schema';

/** Parses and validates config text; throws ConfigError listing every problem. */
export function parseConfig(text: string, file: string): PlatformConfig {
  const deep = deepestNesting(text, MAX_NESTING);
  if (deep) throw new ConfigError([{ file, path: deep.path, reason: `nested deeper than ${MAX_NESTING} levels (the config schema needs ${SCHEMA_NESTING}); is this the right file?` }]);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError([{ file, path: '', reason: `not valid JSON: ${(err as Error).message}` }]);
  }
  return validateConfig(raw, file);
}

/** A real config nests 6 levels deep; parsing and validating recurse, so a file nested 100,000 deep would exhaust the stack. */
const MAX_NESTING = 64;
const SCHEMA_NESTING = 6;

/** Where the text first nests deeper than `limit` objects and arrays (strings skipped), or undefined when it never does. */
function deepestNesting(text: string, limit: number): { path: string } | undefined {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return { path: `(character ${i + 1})` };
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return undefined;
}

export function validateConfig(raw: unknown, file: string): PlatformConfig {
  const value = withDefaults(structuredClone(raw));
  // Check first, list the errors only when there are some: Errors builds every message on the way and cost a start-up
  // about a millisecond more, for a config that is almost always valid.
  const schemaProblems = Value.Check(PlatformConfig, value) ? [] : [...Value.Errors(PlatformConfig, value)].map((e) => ({
    file,
    path: e.path,
    reason: versionFieldProblem(e.path) ?? e.message,
  }));
  if (schemaProblems.length > 0) throw new ConfigError(dedupe(schemaProblems));
  const config = value as PlatformConfig;
  const problems = topologyProblems(config).map((p) => ({ file, ...p }));
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** TypeBox does not descend into Record values when filling defaults, so each role is filled on its own. */
function withDefaults(raw: unknown): unknown {
  const value = Value.Default(PlatformConfig, raw) as { services?: unknown };
  const services = value?.services;
  if (services && typeof services === 'object' && !Array.isArray(services)) {
    for (const [id, role] of Object.entries(services)) (services as Record<string, unknown>)[id] = Value.Default(RoleConfig, role);
  }
  return value;
}

type Problem = Omit<ConfigProblem, 'file'>;

/** A field a version cannot change (`upstreams`, `store`, ...) says so, instead of TypeBox's bare "Unexpected property". */
function versionFieldProblem(path: string): string | undefined {
  const field = /^\/services\/[^/]+\/versions\/[^/]+\/([^/]+)$/.exec(path)?.[1];
  if (field === undefined || VERSION_FIELDS.includes(field)) return undefined;
  return `'${field}' is the role's, the same in all its versions: a version may set only ${VERSION_FIELDS.join(', ')}`;
}

function topologyProblems(config: PlatformConfig): Problem[] {
  const problems: Problem[] = [];
  const services = config.services;
  const ids = Object.keys(services);
  const nameOwner = new Map<string, string>();
  const published = new Set(ids.flatMap((id) => (services[id]!.publish ? [services[id]!.publish!.queue] : [])));

  for (const id of ids) {
    const role = services[id]!;
    const at = `/services/${id}`;
    const seen = new Set<string>();
    role.upstreams.forEach((up, i) => {
      if (!Object.hasOwn(services, up)) problems.push({ path: `${at}/upstreams/${i}`, reason: `upstream '${up}' is not a role in this config` });
      if (seen.has(up)) problems.push({ path: `${at}/upstreams/${i}`, reason: `upstream '${up}' is listed twice` });
      seen.add(up);
    });
    for (const up of Object.keys(role.upstreamTransport ?? {}))
      if (!role.upstreams.includes(up)) problems.push({ path: `${at}/upstreamTransport/${up}`, reason: `'${up}' is not an upstream of this role` });
    const nameUser = nameOwner.get(role.name);
    if (nameUser) problems.push({ path: `${at}/name`, reason: `name '${role.name}' is already used by role '${nameUser}'` });
    else nameOwner.set(role.name, id);
    const defaultVersion = roleVersion(config, id);
    if (role.versions && Object.hasOwn(role.versions, defaultVersion))
      problems.push({ path: `${at}/versions/${defaultVersion}`, reason: `'${defaultVersion}' is this role's default version, described by the role's own fields: list only its other versions here` });
    role.edge?.allowedOrigins.forEach((origin, i) => {
      const problem = originProblem(origin);
      if (problem) problems.push({ path: `${at}/edge/allowedOrigins/${i}`, reason: problem });
    });
    if (role.edge && role.edge.allowCredentials && role.edge.allowedOrigins.includes('*'))
      problems.push({ path: `${at}/edge/allowCredentials`, reason: "credentials cannot be allowed for origin '*'" });
    for (const [field, queue] of [['publish', role.publish?.queue], ['consume', role.consume?.queue]] as const) {
      const problem = queue === undefined ? undefined : queueNameProblem(queue);
      if (problem) problems.push({ path: `${at}/${field}/queue`, reason: `queue name ${problem}` });
    }
    if (role.consume && !published.has(role.consume.queue))
      problems.push({ path: `${at}/consume/queue`, reason: `no role publishes to queue '${role.consume.queue}'` });
  }

  problems.push(...portProblems(config));

  const edges = ids.filter((id) => services[id]!.edge !== undefined);
  if (edges.length !== 1)
    problems.push({
      path: edges.length === 0 ? '/services' : `/services/${edges[1]}/edge`,
      reason: edges.length === 0 ? 'no role is the edge: give exactly one role `edge` options' : `only one role can be the edge, but ${edges.join(', ')} all have \`edge\` options`,
    });

  for (const cycle of findCycles(config)) {
    problems.push({ path: `/services/${cycle[0]}/upstreams`, reason: `call graph has a cycle: ${cycle.join(' -> ')}` });
  }
  return problems;
}

/**
 * Every port the local platform may open is one listener's: each role's and each extra version's HTTP port, then their gRPC
 * ports (any role serves gRPC beside HTTP once `--transport grpc` has every hop call over it, and so do its versions). A
 * listener whose HTTP port clashed has its derived gRPC port clash too; that is not a second problem.
 */
function portProblems(config: PlatformConfig): Problem[] {
  const problems: Problem[] = [];
  const owner = new Map<number, string>();
  const clashing = new Set<string>();
  const listeners = Object.entries(config.services).flatMap(([id, role]) => [
    { id, version: undefined as string | undefined, at: `/services/${id}`, who: `role '${id}'` },
    // A version named like the default is refused already; it is the role's own listener, not another one.
    ...Object.keys(role.versions ?? {})
      .filter((v) => v !== roleVersion(config, id))
      .map((v) => ({ id, version: v, at: `/services/${id}/versions/${v}`, who: `role '${id}' version '${v}'` })),
  ]);
  for (const l of listeners) {
    const port = versionFacts(config, l.id, l.version).port;
    const user = owner.get(port);
    if (user) {
      problems.push({ path: `${l.at}/port`, reason: `port ${port} is already used by ${user}` });
      clashing.add(l.at);
    } else owner.set(port, l.who);
  }
  for (const l of listeners) {
    const explicit = l.version === undefined && config.services[l.id]!.grpcPort !== undefined;
    if (clashing.has(l.at) && !explicit) continue;
    const grpc = localGrpcPort(config, l.id, l.version);
    const user = owner.get(grpc);
    if (user) problems.push({ path: `${l.at}/${l.version === undefined ? 'grpcPort' : 'port'}`, reason: `gRPC port ${grpc} is already used by ${user}` });
    else owner.set(grpc, l.who);
  }
  return problems;
}

/** Every distinct cycle of the upstream graph, each reported once from its first role in config order. */
function findCycles(config: PlatformConfig): string[][] {
  const state = new Map<string, 'visiting' | 'done'>();
  const cycles: string[][] = [];
  const visit = (id: string, path: string[]) => {
    state.set(id, 'visiting');
    for (const up of config.services[id]?.upstreams ?? []) {
      if (!Object.hasOwn(config.services, up)) continue;
      if (state.get(up) === 'visiting') {
        const stack = [...path, id];
        cycles.push([...stack.slice(stack.indexOf(up)), up]);
      }
      else if (!state.has(up)) visit(up, [...path, id]);
    }
    state.set(id, 'done');
  };
  for (const id of Object.keys(config.services)) if (!state.has(id)) visit(id, []);
  return cycles;
}

/** One reason per path: TypeBox reports a missing field both as missing and as the wrong type. */
function dedupe(problems: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = p.path;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
