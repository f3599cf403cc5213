/**
 * The shell scripts: ShellCheck on every one of them, and the GKE deploy script's --dry-run plan, which must hold every step
 * in order, run with none of the cloud tools installed, and never print a connection string.
 */
import { describe, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { loadConfig } from '../../src/config/settings';
import { FIELD_MANAGER } from '../../scripts/verify-cluster/kube-client';
import { ROOT, kustomize, serviceDeployments } from './manifests';

const SKIP_DIRS = new Set(['node_modules', '.git', 'dist', '.cache']);

/** Every file ending in .sh, and every file whose first line is a sh or bash shebang. */
function shellScripts(dir = ROOT): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return SKIP_DIRS.has(name) ? [] : shellScripts(path);
    if (name.endsWith('.sh')) return [relative(ROOT, path)];
    const head = readFileSync(path, 'utf8').slice(0, 64);
    return /^#!\s*\/(usr\/)?bin\/(env\s+)?(ba)?sh\b/.test(head) ? [relative(ROOT, path)] : [];
  });
}

const MONGO_CONN = 'mongodb+srv://app:mongo-pa55word@cluster0.abcde.mongodb.net/?retryWrites=true';
const RABBITMQ_CONN = 'amqps://app:rabbit-pa55word@goose.rmq.cloudamqp.com/app';

/** Runs deploy.sh with only the given environment: no gcloud, docker or istioctl is reachable, as on any laptop without them. */
function deploy(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(Bun.which('bash')!, ['deploy/gke/deploy.sh', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { PATH: '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...env },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, lines: result.stdout.trimEnd().split('\n') };
}

const settings = { PROJECT_ID: 'demo-project', TAG: 'abc123', MONGO_CONN, RABBITMQ_CONN };
const IMAGE = 'us-central1-docker.pkg.dev/demo-project/greeting-mesh/greeting-mesh:abc123';

/** The index of the first line containing every fragment, after line `from`; -1 if none. */
function lineIndex(lines: string[], fragments: string[], from = -1): number {
  return lines.findIndex((line, i) => i > from && fragments.every((f) => line.includes(f)));
}

describe('shell scripts', () => {
  test('ShellCheck finds nothing in any of them', () => {
    const scripts = shellScripts();
    expect(scripts).toEqual(
      expect.arrayContaining(['deploy/gke/deploy.sh', 'deploy/istio/install.sh', 'scripts/ci/install-cluster-tools.sh']),
    );
    const check = spawnSync('shellcheck', ['--external-sources', ...scripts], { cwd: ROOT, encoding: 'utf8' });
    if (check.error) throw new Error('shellcheck is not installed: run `bash scripts/ci/install-cluster-tools.sh`');
    expect(check.stdout).toBe('');
    expect(check.status).toBe(0);
  });
});

describe('deploy/gke/deploy.sh --dry-run', () => {
  test('up: creates the cluster, installs Istio and its add-ons, pushes the image, applies the overlay, in that order', () => {
    const { status, lines, stderr } = deploy(['--dry-run', 'up'], settings);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    const steps = [
      ['gcloud', '--project demo-project', 'services enable container.googleapis.com'],
      ['gcloud', 'artifacts repositories create greeting-mesh', '--location us-central1'],
      ['gcloud', 'container clusters create greeting-mesh', '--region us-central1'],
      ['gcloud', 'container clusters get-credentials greeting-mesh'],
      ['istioctl install -y -f deploy/gke/istio-operator.yaml'],
      ['kubectl apply -f deploy/gke/telemetry-mesh-tracing.yaml'],
      ['kubectl apply -f', 'samples/addons/prometheus.yaml'],
      ['kubectl apply -f', 'samples/addons/grafana.yaml'],
      ['kubectl apply -f', 'samples/addons/kiali.yaml'],
      ['kubectl apply -f', 'samples/addons/jaeger.yaml'],
      ['kubectl -n istio-system patch deployment prometheus --type json --patch-file deploy/istio/addons/prometheus-exemplar-storage.yaml'],
      ['kubectl -n istio-system patch configmap grafana --type merge --patch-file deploy/istio/addons/grafana-datasources.yaml'],
      ['docker build --platform linux/amd64 --tag', IMAGE, ' .'],
      ['docker push', IMAGE],
      ['kubectl apply -f deploy/gke/namespace.yaml'],
      ['kubectl -n dev create secret generic greeting-mesh-backends'],
      ['kubectl apply -f', 'secret.yaml'],
      ['kubectl apply --server-side --field-manager=greeting-mesh --force-conflicts -k deploy/.release'],
      ['kubectl -n dev wait deployment -l component=service'],
      ['kubectl -n dev delete deployment --ignore-not-found service-a service-b'],
      ['kubectl -n dev delete poddisruptionbudget --ignore-not-found service-a service-b'],
      ['kubectl -n dev delete horizontalpodautoscaler --ignore-not-found service-a service-b'],
      ['kubectl -n istio-system get service istio-ingressgateway'],
    ];
    let at = -1;
    for (const step of steps) {
      const next = lineIndex(lines, step, at);
      expect({ step: step.join(' … '), found: next > at }).toEqual({ step: step.join(' … '), found: true });
      at = next;
    }
    expect(lines.find((l) => l.includes(IMAGE) && l.includes('.release'))).toBeDefined();
    expect(lines.every((l) => l.startsWith('+ '))).toBe(true);
  });

  test('the connection strings are never printed, and nothing is written', () => {
    const release = join(ROOT, 'deploy/.release/kustomization.yaml');
    const before = existsSync(release) ? readFileSync(release, 'utf8') : undefined;
    const { stdout, stderr } = deploy(['--dry-run', 'up'], settings);
    for (const secret of ['mongo-pa55word', 'rabbit-pa55word', 'cloudamqp.com/app', 'cluster0.abcde']) {
      expect(stdout).not.toContain(secret);
      expect(stderr).not.toContain(secret);
    }
    expect(existsSync(release) ? readFileSync(release, 'utf8') : undefined).toBe(before);
  });

  test('up refuses to start without the backends\' connection strings or the project, naming what is missing', () => {
    const noMongo = deploy(['--dry-run', 'up'], { ...settings, MONGO_CONN: '' });
    expect(noMongo.status).not.toBe(0);
    expect(noMongo.stderr).toContain('MONGO_CONN');
    const noProject = deploy(['--dry-run', 'up'], { ...settings, PROJECT_ID: '' });
    expect(noProject.status).not.toBe(0);
    expect(noProject.stderr).toContain('PROJECT_ID');
  });

  test('after the upgrade, deletes the objects a release before versions named service-<id>, and nothing the render writes', () => {
    const { lines } = deploy(['--dry-run', 'up'], settings);
    const deletes = lines.filter((l) => / -n dev delete \S+ --ignore-not-found /.test(l));
    expect(deletes.map((l) => l.split(' ')[5])).toEqual(['deployment', 'poddisruptionbudget', 'horizontalpodautoscaler']);
    const { config } = loadConfig();
    const names = deletes[0]!.split(' --ignore-not-found ')[1]!.split(' ');
    expect(names).toEqual(Object.keys(config.services).map((id) => `service-${id}`));
    for (const l of deletes) expect(l.split(' --ignore-not-found ')[1]!.split(' ')).toEqual(names);
    const rendered = kustomize('deploy/gke').filter((o) => ['Deployment', 'PodDisruptionBudget', 'HorizontalPodAutoscaler'].includes(o.kind));
    expect(rendered.length).toBeGreaterThan(0);
    expect(rendered.filter((o) => names.includes(o.metadata.name)).map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([]);
  });

  test('applies server-side as the field manager the cluster gate proves the upgrade semantics for', () => {
    const script = readFileSync(join(ROOT, 'deploy/gke/deploy.sh'), 'utf8');
    expect(script).toContain(`kubectl apply --server-side --field-manager=${FIELD_MANAGER} --force-conflicts -k "$RELEASE_DIR"`);
  });

  test('the release overlay it writes renders deploy/gke with the pushed image on every service', () => {
    withRelease(undefined, (images) => {
      expect(Object.keys(images).length).toBeGreaterThan(0);
      for (const [name, image] of Object.entries(images)) expect({ name, image }).toEqual({ name, image: IMAGE });
    });
  });

  test('--platform: the image is built for the nodes\' platform, one of them or both as one multi-platform image', () => {
    const build = (args: string[]) => deploy([...args, '--dry-run', 'up'], settings);
    const arm = build(['--platform', 'linux/arm64']);
    expect(arm.status).toBe(0);
    expect(arm.lines.filter((l) => /docker (buildx )?build|docker push/.test(l))).toEqual([
      `+ docker build --platform linux/arm64 --tag ${IMAGE} .`,
      `+ docker push ${IMAGE}`,
    ]);
    // Without the flag: amd64, GKE's usual nodes, whatever the machine that runs the script.
    expect(build([]).lines.filter((l) => l.includes('docker build'))).toEqual([`+ docker build --platform linux/amd64 --tag ${IMAGE} .`]);
    const both = build(['--platform=linux/amd64,linux/arm64']);
    // Printed as bash's printf %q quotes it (the comma escaped), so the line pastes into a shell as it is.
    expect(both.lines.filter((l) => /docker (buildx )?build|docker push/.test(l))).toEqual([`+ docker buildx build --platform linux/amd64\\,linux/arm64 --tag ${IMAGE} --push .`]);
    // The rest of the plan is the same: only the build step depends on the platform.
    expect(both.lines.filter((l) => !/docker/.test(l))).toEqual(arm.lines.filter((l) => !/docker/.test(l)));
  });

  test('an unknown platform is refused before anything runs, naming it', () => {
    const { status, stdout, stderr } = deploy(['--platform', 'linux/riscv64', '--dry-run', 'up'], settings);
    expect(status).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('--platform linux/riscv64: each platform must be linux/amd64 or linux/arm64');
  });

  test('a version whose config pins a tag runs that tag of the pushed repository; the others the pushed build', () => {
    withRelease((raw) => (raw.services.h.versions.v2.tag = '1.2.3'), (images, root) => {
      expect(images['service-h-v2']).toBe(IMAGE.replace(/:[^:]+$/, ':1.2.3'));
      expect(images['service-h-v1']).toBe(IMAGE);
      // kind has no registry: the pinned build is whatever `kind load docker-image greeting-mesh-pinned:<tag>` loaded.
      const kind = serviceDeployments(kustomize('deploy/kind', root));
      expect(kind.find((d) => d.metadata.name === 'service-h-v2')!.spec.template.spec.containers[0].image).toBe('greeting-mesh-pinned:1.2.3');
    });
  });
});

/**
 * The release overlay deploy.sh writes, in a copy of deploy/ rendered from the config (changed by `edit`, when given):
 * `check` gets each Deployment's image there, and the copy's root.
 */
function withRelease(edit: ((raw: any) => void) | undefined, check: (images: Record<string, string>, root: string) => void): void {
  const script = readFileSync(join(ROOT, 'deploy/gke/deploy.sh'), 'utf8');
  const template = /<<YAML\n([\s\S]*?)\nYAML\n/.exec(script)![1]!;
  const releaseDir = /^RELEASE_DIR=(\S+)$/m.exec(script)![1]!;
  const [name, tag] = IMAGE.split(/:(?=[^:]+$)/);
  const text = template
    .replaceAll('$IMAGE_NAME', 'greeting-mesh')
    .replaceAll('$IMAGE', name!)
    .replaceAll('$TAG', tag!);
  const root = mkdtempSync(join(tmpdir(), 'release-'));
  try {
    cpSync(join(ROOT, 'deploy'), join(root, 'deploy'), { recursive: true });
    if (edit) {
      const raw = JSON.parse(readFileSync(join(ROOT, 'config/services.json'), 'utf8'));
      edit(raw);
      writeFileSync(join(root, 'services.json'), JSON.stringify(raw));
      const rendered = spawnSync(process.execPath, [join(ROOT, 'scripts/render/main.ts'), '--config', join(root, 'services.json'), '--out', root], { encoding: 'utf8' });
      if (rendered.status !== 0) throw new Error(rendered.stderr);
    }
    mkdirSync(join(root, releaseDir), { recursive: true });
    writeFileSync(join(root, releaseDir, 'kustomization.yaml'), text);
    const deployments = serviceDeployments(kustomize(releaseDir, root));
    check(Object.fromEntries(deployments.map((d) => [d.metadata.name, d.spec.template.spec.containers[0].image as string])), root);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

describe('deploy/gke/deploy.sh --dry-run, down and errors', () => {
  test('down: releases the load balancer before deleting the cluster', () => {
    const { status, lines } = deploy(['down', '--dry-run'], { PROJECT_ID: 'demo-project' });
    expect(status).toBe(0);
    const namespace = lineIndex(lines, ['kubectl delete namespace dev']);
    const gateway = lineIndex(lines, ['kubectl -n istio-system delete service istio-ingressgateway']);
    const cluster = lineIndex(lines, ['gcloud', 'container clusters delete greeting-mesh', '--quiet']);
    expect(namespace).toBeGreaterThan(-1);
    expect(gateway).toBeGreaterThan(namespace);
    expect(cluster).toBeGreaterThan(gateway);
  });

  test('an unknown command prints the usage and exits 2', () => {
    const { status, stderr } = deploy(['--dry-run', 'sideways'], settings);
    expect(status).toBe(2);
    expect(stderr).toContain('deploy/gke/deploy.sh [--dry-run] [--platform P] up');
    expect(stderr).toContain('ISTIO_HOME');
  });

  test('without --dry-run and without the cloud tools, it stops before doing anything', () => {
    // A PATH with only the shell utilities the script itself uses, so no real gcloud can ever be reached from a test.
    const bin = mkdtempSync(join(tmpdir(), 'deploy-path-'));
    try {
      for (const tool of ['bash', 'dirname', 'sed', 'cat']) symlinkSync(Bun.which(tool)!, join(bin, tool));
      const { status, stdout, stderr } = deploy(['up'], { ...settings, PATH: bin });
      expect(stderr).toMatch(/'gcloud' is not installed/);
      expect(status).toBe(1);
      expect(stdout).toBe('');
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });
});
