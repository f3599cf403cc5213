/**
 * Where the real programs are: kube-apiserver, istioctl and Tilt in the tool cache that scripts/ci/install-cluster-tools.sh
 * fills (the same directory scripts/ci/lib.sh names), etcd and kubectl from the system. A missing tool is an error that says
 * how to get it: the gate never passes for want of a tool.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { run } from './processes';

export const INSTALL_HINT =
  'run `bash scripts/ci/install-cluster-tools.sh` (as root: it installs etcd from Debian, builds kube-apiserver, istioctl ' +
  "and Tilt from the Go module proxy and takes Gateway API's CRDs from its module into the tool cache; 10 to 17 minutes cold " +
  'on two shared cores, seconds once cached)';

/** scripts/ci/lib.sh: TOOLS_DIR=${GREETING_MESH_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/greeting-mesh}. */
export function toolsDir(env = process.env): string {
  return env.GREETING_MESH_TOOLS || join(env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache'), 'greeting-mesh');
}

/** TOOLS_BIN=$TOOLS_DIR/bin. */
export function toolsBin(env = process.env): string {
  return join(toolsDir(env), 'bin');
}

const MESH_GO_MOD = join(import.meta.dir, '../ci/cluster-tools/mesh/go.mod');

/** The Gateway API release the pinned Istio is built against: what cluster-tools/mesh/go.mod requires of its module. */
export function gatewayApiVersion(): string {
  const version = /^\s*sigs\.k8s\.io\/gateway-api (v\S+)/m.exec(readFileSync(MESH_GO_MOD, 'utf8'))?.[1];
  if (!version) throw new Error(`${MESH_GO_MOD} requires no sigs.k8s.io/gateway-api`);
  return version;
}

/** Where scripts/ci/cluster-tools/build.sh (install_gateway_api_crds) puts that release's standard-channel CRDs. */
export function gatewayApiCrdsFile(env = process.env): string {
  return join(toolsDir(env), 'crds', `gateway-api-${gatewayApiVersion()}-standard.yaml`);
}

export interface Tools {
  etcd: string;
  kubeApiserver: string;
  istioctl: string;
  tilt: string;
  /** The command that renders a kustomization: `kubectl kustomize` or a standalone `kustomize build`. */
  kustomize: string[];
  /** Gateway API's CRDs (standard channel), one YAML stream. */
  gatewayApiCrds: string;
  versions: Record<string, string>;
}

export class ToolMissing extends Error {}

function onPath(name: string): string | undefined {
  return Bun.which(name) ?? undefined;
}

function firstLine(command: string, args: string[], pattern: RegExp): string {
  // Tilt sets up usage analytics for every command, `version` included: told not to, it sends nothing.
  const result = run(command, args, { env: { ...process.env, TILT_DISABLE_ANALYTICS: '1', DO_NOT_TRACK: '1' } });
  const text = `${result.stdout}\n${result.stderr}`;
  const match = pattern.exec(text);
  if (result.status !== 0 || !match) throw new ToolMissing(`${command} ${args.join(' ')} does not run or report a version: ${INSTALL_HINT}`);
  return match[1]!;
}

function kustomizeCommand(): string[] {
  const kubectl = onPath('kubectl');
  if (kubectl) {
    const major = Number(/Kustomize Version: v(\d+)/.exec(run(kubectl, ['version', '--client']).stdout)?.[1] ?? 0);
    if (major >= 5) return [kubectl, 'kustomize'];
  }
  const kustomize = onPath('kustomize');
  if (kustomize) return [kustomize, 'build'];
  throw new ToolMissing(`no kustomize v5 (kubectl kustomize or kustomize): ${INSTALL_HINT}`);
}

export function findTools(env = process.env): Tools {
  const bin = toolsBin(env);
  const cached = (name: string) => {
    const path = join(bin, name);
    if (!existsSync(path)) throw new ToolMissing(`${name} is not in ${bin}: ${INSTALL_HINT}`);
    return path;
  };
  const etcd = onPath('etcd');
  if (!etcd) throw new ToolMissing(`etcd is not installed (Debian package etcd-server): ${INSTALL_HINT}`);
  const gatewayApiCrds = gatewayApiCrdsFile(env);
  if (!existsSync(gatewayApiCrds)) throw new ToolMissing(`Gateway API's CRDs are not in ${gatewayApiCrds}: ${INSTALL_HINT}`);
  const tools = {
    etcd,
    kubeApiserver: cached('kube-apiserver'),
    istioctl: cached('istioctl'),
    tilt: cached('tilt'),
    kustomize: kustomizeCommand(),
    gatewayApiCrds,
  };
  const istio = JSON.parse(run(tools.istioctl, ['version', '--remote=false', '-o', 'json']).stdout || '{}')?.clientVersion;
  if (!istio?.version) throw new ToolMissing(`${tools.istioctl} does not report its version: ${INSTALL_HINT}`);
  return {
    ...tools,
    versions: {
      'kube-apiserver': firstLine(tools.kubeApiserver, ['--version'], /Kubernetes (v\S+)/),
      etcd: firstLine(etcd, ['--version'], /etcd Version: (\S+)/),
      istioctl: `${istio.version} (${istio.revision})`,
      tilt: firstLine(tools.tilt, ['version'], /^(v[0-9.]+)/m),
      'gateway-api': `${gatewayApiVersion()} (standard CRDs)`,
    },
  };
}
