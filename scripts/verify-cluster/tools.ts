/**
 * Where the real programs are: kube-apiserver, istioctl and Tilt in the tool cache that scripts/ci/install-cluster-tools.sh
 * fills (the same directory scripts/ci/lib.sh names), etcd and kubectl from the system. A missing tool is an error that says
 * how to get it: the gate never passes for want of a tool.
 */
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { run } from './processes';

export const INSTALL_HINT =
  'run `bash scripts/ci/install-cluster-tools.sh` (as root: it installs etcd from Debian and builds kube-apiserver, istioctl ' +
  'and Tilt from the Go module proxy into the tool cache; 10 to 17 minutes cold on two shared cores, seconds once cached)';

/** scripts/ci/lib.sh: TOOLS_DIR=${GREETING_MESH_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/greeting-mesh}, TOOLS_BIN=$TOOLS_DIR/bin. */
export function toolsBin(env = process.env): string {
  const dir = env.GREETING_MESH_TOOLS || join(env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache'), 'greeting-mesh');
  return join(dir, 'bin');
}

export interface Tools {
  etcd: string;
  kubeApiserver: string;
  istioctl: string;
  tilt: string;
  /** The command that renders a kustomization: `kubectl kustomize` or a standalone `kustomize build`. */
  kustomize: string[];
  /** The Gateway API's standard-channel CRD files, of the version the Istio module pins (the waypoint is a Gateway). */
  gatewayApiCrds: string[];
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

/** Where the mesh tools' Go module is: its go.mod and go.sum pin Istio, and through it the Gateway API istioctl was built with. */
const MESH_MODULE = resolve(import.meta.dir, '../ci/cluster-tools/mesh');
const GATEWAY_API = 'sigs.k8s.io/gateway-api';

/**
 * The Gateway API CRDs, from the module cache that building istioctl filled (offline: the gate runs without a network), at the
 * version Istio's module requires, so the API server and istioctl read the same Gateway schema.
 */
function gatewayApiCrds(env: NodeJS.ProcessEnv): { files: string[]; version: string } {
  const go = onPath('go') ?? (existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined);
  if (!go) throw new ToolMissing(`Go is not installed, so the Gateway API module cannot be found: ${INSTALL_HINT}`);
  const listed = run(go, ['list', '-m', '-f', '{{.Version}} {{.Dir}}', GATEWAY_API], {
    cwd: MESH_MODULE,
    env: { ...env, GOTOOLCHAIN: 'local', GOFLAGS: '-mod=readonly', GOPROXY: 'off' },
  });
  const [version, dir] = listed.stdout.trim().split(' ');
  const crds = dir ? join(dir, 'config', 'crd', 'standard') : '';
  if (listed.status !== 0 || !version || !crds || !existsSync(crds))
    throw new ToolMissing(`${GATEWAY_API} is not in the Go module cache (${listed.stderr.trim() || 'no directory'}): ${INSTALL_HINT}`);
  // The CRDs only: the channel's ValidatingAdmissionPolicy (vap_*) guards upgrades to the experimental channel.
  const files = readdirSync(crds).filter((f) => /^gateway\.networking\.k8s\.io_(?!vap_).+\.yaml$/.test(f)).map((f) => join(crds, f));
  return { files, version };
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
  const tools = {
    etcd,
    kubeApiserver: cached('kube-apiserver'),
    istioctl: cached('istioctl'),
    tilt: cached('tilt'),
    kustomize: kustomizeCommand(),
  };
  const gatewayApi = gatewayApiCrds(env);
  const istio = JSON.parse(run(tools.istioctl, ['version', '--remote=false', '-o', 'json']).stdout || '{}')?.clientVersion;
  if (!istio?.version) throw new ToolMissing(`${tools.istioctl} does not report its version: ${INSTALL_HINT}`);
  return {
    ...tools,
    gatewayApiCrds: gatewayApi.files,
    versions: {
      'gateway-api': gatewayApi.version,
      'kube-apiserver': firstLine(tools.kubeApiserver, ['--version'], /Kubernetes (v\S+)/),
      etcd: firstLine(etcd, ['--version'], /etcd Version: (\S+)/),
      istioctl: `${istio.version} (${istio.revision})`,
      tilt: firstLine(tools.tilt, ['version'], /^(v[0-9.]+)/m),
    },
  };
}
