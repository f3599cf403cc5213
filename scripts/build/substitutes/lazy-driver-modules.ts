/**
 * The MongoDB driver's own modules that a role's store never runs, loaded on first use instead of at import. The driver's
 * index re-exports its whole API, and its classes require every module a method might need, so importing it evaluated
 * about 130 modules of which a store (connect, index builds, inserts, duplicates, an unreachable server, close) runs about 50.
 * Measured compiled, role C's exec to first 200 with MONGO_CONN set: 42.2 -> 39.5 ms (README, "Performance").
 *
 * The list is what a MongoStore loaded with every require of the driver made lazy (lazy-driver-modules.test.ts runs the
 * store's paths against a real server and fails if one of these loads). A module that some rarer path needs (a login with
 * a password, a pool error) still loads, on that path's first use: the list decides only when, never whether.
 */
import { existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { lazyBinding } from './lazy-binding';

export const LAZY_DRIVER_MODULES: readonly string[] = [
  // Other parts of the API: the admin database, change streams, GridFS, sort specs, explain, the optional dependencies' loader.
  'admin',
  'change_stream',
  'explain',
  'gridfs/index',
  'gridfs/download',
  'gridfs/upload',
  'sort',
  'deps',
  // Client-side field-level encryption, used only with `autoEncryption` options.
  'encrypter',
  'client-side-encryption/auto_encrypter',
  'client-side-encryption/client_encryption',
  'client-side-encryption/errors',
  'client-side-encryption/mongocryptd_manager',
  'client-side-encryption/state_machine',
  'client-side-encryption/providers/index',
  'client-side-encryption/providers/aws',
  'client-side-encryption/providers/azure',
  'client-side-encryption/providers/gcp',
  // Every login mechanism: a connection string with credentials loads its own on the first connect.
  'cmap/auth/mongo_credentials',
  'cmap/auth/gssapi',
  'cmap/auth/scram',
  'cmap/auth/plain',
  'cmap/auth/x509',
  'cmap/auth/aws4',
  'cmap/auth/aws_temporary_credentials',
  'cmap/auth/mongodb_aws',
  'cmap/auth/mongodb_oidc',
  'cmap/auth/mongodb_oidc/automated_callback_workflow',
  'cmap/auth/mongodb_oidc/azure_machine_workflow',
  'cmap/auth/mongodb_oidc/callback_workflow',
  'cmap/auth/mongodb_oidc/command_builders',
  'cmap/auth/mongodb_oidc/gcp_machine_workflow',
  'cmap/auth/mongodb_oidc/human_callback_workflow',
  'cmap/auth/mongodb_oidc/k8s_machine_workflow',
  'cmap/auth/mongodb_oidc/token_cache',
  'cmap/auth/mongodb_oidc/token_machine_workflow',
  // The connection pool's own errors (closed, cleared, queue timeout); the events of options the store leaves off (command
  // monitoring, server selection logging); polling DNS for a `mongodb+srv://` URL's hosts.
  'cmap/errors',
  'cmap/command_monitoring_events',
  'sdam/server_selection_events',
  'sdam/srv_polling',
  // Cursors and the commands behind them: the store only inserts (unordered bulk writes) and builds indexes.
  'cursor/abstract_cursor',
  'cursor/explainable_cursor',
  'cursor/change_stream_cursor',
  'cursor/aggregation_cursor',
  'cursor/client_bulk_write_cursor',
  'cursor/find_cursor',
  'cursor/list_collections_cursor',
  'cursor/list_indexes_cursor',
  'cursor/list_search_indexes_cursor',
  'cursor/run_command_cursor',
  'bulk/ordered',
  'operations/client_bulk_write/client_bulk_write',
  'operations/client_bulk_write/command_builder',
  'operations/client_bulk_write/executor',
  'operations/client_bulk_write/results_merger',
  'operations/count',
  'operations/create_collection',
  'operations/delete',
  'operations/distinct',
  'operations/drop',
  'operations/estimated_document_count',
  'operations/find',
  'operations/find_and_modify',
  'operations/get_more',
  'operations/kill_cursors',
  'operations/list_collections',
  'operations/list_databases',
  'operations/profiling_level',
  'operations/set_profiling_level',
  'operations/remove_user',
  'operations/rename',
  'operations/run_command',
  'operations/search_indexes/create',
  'operations/search_indexes/drop',
  'operations/search_indexes/update',
  'operations/stats',
  'operations/update',
  'operations/validate_collection',
];

const LAZY_SET: ReadonlySet<string> = new Set(LAZY_DRIVER_MODULES);

/** The driver's `lib` directory, where the modules above are named from. */
export const DRIVER_LIB = join(dirname(require.resolve('mongodb/package.json')), 'lib');

/** What a driver file's `require("./x")` names, as the list does: `x`, or `x/index` for a directory. */
export function driverModuleOf(file: string, specifier: string): string {
  const target = join(dirname(file), specifier);
  const named = !existsSync(`${target}.js`) && existsSync(join(target, 'index.js')) ? join(target, 'index') : target;
  return relative(DRIVER_LIB, named);
}

/** A require of a driver module: `const` in the driver's modules, `var` in its index's re-exports. */
export const DRIVER_REQUIRE = /^(const|var) (\w+) = require\("(\.\.?\/[^"]+)"\);$/gm;

/**
 * `file`'s requires of the listed modules made lazy. A lazy binding answers property reads only (a Proxy with a `get`
 * trap), so a binding used any other way (spread, `in`, passed as a value, a property assigned) fails the build, naming the
 * file and the use.
 */
export function deferDriverRequires(source: string, file: string, lazy: ReadonlySet<string> = LAZY_SET): string {
  return source.replace(DRIVER_REQUIRE, (statement, keyword: 'const' | 'var', name: string, specifier: string) => {
    if (!lazy.has(driverModuleOf(file, specifier))) return statement;
    const declared = source.indexOf(statement) + keyword.length + 1;
    // A read is `name.key` not followed by an assignment: the Proxy has no `set` trap, so a write would miss the module.
    const uses = source.matchAll(new RegExp(`\\b${name}\\b(?:(\\.[\\w$]+\\s*(?:[-+*/%&|^]|\\*\\*|<<|>>>?|&&|\\|\\||\\?\\?)?=(?!=))|(.?))`, 'g'));
    for (const use of uses) {
      if (use.index === declared || use[2] === '.') continue;
      const around = source.slice(Math.max(0, use.index - 20), use.index + name.length + 20);
      throw new Error(
        `${relative(DRIVER_LIB, file)}: \`${name}\` (require("${specifier}")) is used other than by reading a property (${JSON.stringify(around)}), ` +
          'so it cannot be loaded on first use: the driver changed; update LAZY_DRIVER_MODULES in scripts/build/substitutes/lazy-driver-modules.ts',
      );
    }
    return lazyBinding(name, specifier, keyword);
  });
}
