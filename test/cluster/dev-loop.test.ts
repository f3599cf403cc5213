/**
 * The pieces of the dev loop that no machine here can run (Docker, kind, Tilt), checked against the things they must agree
 * with: the image against the manifests and the build script, the build context against the Dockerfile, the Tiltfile against
 * the overlay it deploys, and the kind cluster's port mapping against the gateway's node port.
 */
import { describe, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from '../../scripts/build/binary';
import { ROOT, kustomize, kustomizeWith, parseYamlStream, serviceDeployments, type K8sObject } from './manifests';

const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

interface Stage {
  from: string;
  name?: string;
  /** `FROM --platform=...`: the platform the stage runs on, when it is not the target's. */
  platform?: string;
  lines: string[];
}

/** The Dockerfile's stages, with continuation lines joined and comments dropped. */
function stages(): Stage[] {
  const lines = read('Dockerfile')
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const result: Stage[] = [];
  for (const line of lines) {
    const from = /^FROM\s+(?:--platform=(\S+)\s+)?(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) result.push({ from: from[2]!, name: from[3], platform: from[1], lines: [] });
    else result.at(-1)?.lines.push(line);
  }
  return result;
}

const instruction = (stage: Stage, name: string) => stage.lines.filter((l) => l.toUpperCase().startsWith(`${name} `));
const kindDeployments = serviceDeployments(kustomize('deploy/kind'));
const firstPod = kindDeployments[0]!.spec.template.spec;

describe('Dockerfile', () => {
  const all = stages();
  const runtime = all.at(-1)!;

  test('builds with the official Bun image from the committed lockfile, and compiles the one binary as `npm run build:binary` does', () => {
    expect(all[0]!.from).toBe('oven/bun:1.4.5');
    expect(all.some((s) => s.lines.some((l) => /bun install --frozen-lockfile/.test(l)))).toBe(true);
    const script = JSON.parse(read('package.json')).scripts['build:binary'] as string;
    expect(script).toBe('bun scripts/build/binary.ts');
    const build = all.flatMap((s) => s.lines).find((l) => l.includes(script))!;
    // The target and the runtime it embeds are the image's platform's, the output is the stage's; nothing else is passed.
    const flags = build.slice(build.indexOf(script) + script.length).split(/\s+/).filter((w) => w.startsWith('--')).map((w) => w.split('=')[0]);
    expect(flags.sort()).toEqual(['--executable-path', '--outfile', '--target']);
    // …and the script takes each of them.
    expect(Object.keys(parseArgs(flags.map((f) => `${f}=x`))).sort()).toEqual(['executablePath', 'outfile', 'target']);
  });

  test('cross-compiles: the build stage runs on the builder, compiles for TARGETARCH with the lockfile\'s runtime for it', () => {
    const build = all.find((s) => s.lines.some((l) => l.includes('scripts/build/binary.ts')))!;
    expect(build.platform).toBe('$BUILDPLATFORM');
    expect(instruction(build, 'ARG')).toEqual(['ARG TARGETARCH']);
    const commands = build.lines.filter((l) => l.startsWith('RUN ')).join('\n');
    // Each platform Docker names maps to Bun's target and to a runtime package the committed lockfile pins.
    const lock = JSON.parse(read('package-lock.json')).packages;
    for (const [docker, arch, runtime] of [['amd64', 'x64', 'bun-linux-x64'], ['arm64', 'arm64', 'bun-linux-aarch64']]) {
      expect(commands).toContain(`${docker}) cpu=${arch}`);
      expect(commands).toContain(`${docker}) arch=${arch} runtime=${runtime}`);
      expect(lock[`node_modules/@oven/${runtime}`]?.cpu).toEqual([arch]);
    }
    expect(commands).toContain('bun install --frozen-lockfile --production --ignore-scripts --os=linux --cpu="$cpu"');
    expect(commands).toContain('--target="bun-linux-$arch" --executable-path="node_modules/@oven/$runtime/bin/bun"');
    // Only what runs in the image is of the target platform.
    for (const stage of all.filter((s) => s !== build)) expect({ stage: stage.name, platform: stage.platform }).toEqual({ stage: stage.name, platform: undefined });
  });

  test('the last stage is minimal, runs the compiled binary as the numeric user the manifests require, on their port', () => {
    expect(runtime.from).toMatch(/^gcr\.io\/distroless\/.+:nonroot$/);
    expect(instruction(runtime, 'USER')).toEqual([`USER ${firstPod.securityContext.runAsUser}:${firstPod.securityContext.runAsGroup}`]);
    expect(instruction(runtime, 'EXPOSE')).toEqual([`EXPOSE ${firstPod.containers[0].ports[0].containerPort}`]);
    const copied = /COPY --from=\S+ \S+ (\S+)/.exec(instruction(runtime, 'COPY')[0]!)![1];
    expect(instruction(runtime, 'ENTRYPOINT')).toEqual([`ENTRYPOINT ["${copied}"]`]);
  });

  test('.dockerignore lets in exactly what the stages copy from the context', () => {
    const rules = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    expect(rules[0]).toBe('*');
    const allowed = rules.slice(1).map((r) => r.replace(/^!/, '').replace(/\/$/, ''));
    const sources = all.flatMap((s) =>
      instruction(s, 'COPY')
        .filter((l) => !l.includes('--from='))
        .flatMap((l) => l.split(/\s+/).slice(1, -1).filter((w) => !w.startsWith('--'))),
    );
    expect([...new Set(sources)].sort()).toEqual([...allowed].sort());
    for (const path of allowed) expect(existsSync(join(ROOT, path))).toBe(true);
  });
});

describe('Tiltfile', () => {
  const tiltfile = read('Tiltfile');

  test('is syntactically valid Starlark (checked with Python\'s parser, whose grammar Starlark is a subset of)', () => {
    const parsed = spawnSync('python3', ['-c', 'import ast,sys; ast.parse(sys.stdin.read())'], { input: tiltfile, encoding: 'utf8' });
    if (parsed.error) throw new Error('python3 is needed to parse the Tiltfile');
    expect(parsed.stderr).toBe('');
    expect(parsed.status).toBe(0);
  });

  test('builds the image the kind overlay runs, and applies that overlay', () => {
    const image = /^IMAGE = '([^']+)'/m.exec(tiltfile)![1]!;
    for (const d of kindDeployments) expect(d.spec.template.spec.containers[0].image.split(':')[0]).toBe(image);
    expect(tiltfile).toContain("kustomize('deploy/kind')");
    expect(tiltfile).toMatch(/docker_build\(\s*IMAGE/);
  });

  test('groups every Istio object of the overlay, and every Gateway API one of the gateway-api component, in the mesh resource', () => {
    const kinds = /^ISTIO_KINDS = \[([^\]]+)\]/m.exec(tiltfile)![1]!.match(/'([^']+)'/g)!.map((k) => k.slice(1, -1));
    const routing = (o: K8sObject) => o.apiVersion.includes('istio.io') || o.apiVersion.startsWith('gateway.networking.k8s.io/');
    const objects = [...kustomize('deploy/kind'), ...kustomizeWith('deploy/kind', ['components/gateway-api'])];
    const istio = new Set(objects.filter(routing).map((o) => o.kind));
    expect([...istio].sort()).toEqual([...kinds].sort());
  });

  test('every file it names exists', () => {
    const paths = [...tiltfile.matchAll(/'((?:deploy|scripts|config|src)\/[^' ]+|Dockerfile)'/g)].map((m) => m[1]!);
    expect(paths.length).toBeGreaterThan(3);
    for (const path of paths) expect({ path, exists: existsSync(join(ROOT, path)) }).toEqual({ path, exists: true });
  });

  test('live update syncs into the directory the dev stage runs the sources from', () => {
    const dev = stages().find((s) => s.name === 'dev')!;
    const workdir = instruction(stages()[0]!, 'WORKDIR')[0]!.split(/\s+/)[1];
    expect(tiltfile).toContain(`sync('src', '${workdir}/src')`);
    expect(instruction(dev, 'ENTRYPOINT')[0]).toContain('src/service.ts');
  });
});

describe('kind cluster', () => {
  test('the host port maps to the node port the ingress gateway is installed on', () => {
    const [cluster] = parseYamlStream(read('deploy/kind/kind-cluster.yaml')) as any[];
    const [operator] = parseYamlStream(read('deploy/kind/istio-operator.yaml')) as any[];
    const gateway = operator.spec.components.ingressGateways[0].k8s.service;
    const http = gateway.ports.find((p: any) => p.port === 80);
    expect(gateway.type).toBe('NodePort');
    expect(cluster.nodes[0].extraPortMappings.map((m: any) => m.containerPort)).toEqual([http.nodePort]);
  });
});
