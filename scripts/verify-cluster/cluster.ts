/**
 * A real Kubernetes control plane for the checks: etcd and kube-apiserver on loopback ports picked at run time, with a throwaway
 * data directory, a token for the gate, and a kubeconfig for istioctl and Tilt. No controller manager, scheduler or kubelet:
 * objects are validated, defaulted and stored exactly as on a cluster, but nothing runs them.
 *
 * Loopback only. The admission webhook plugins are off, and this is asserted, not assumed: Istio's install carries webhooks
 * that make the API server call istiod at a Service cluster IP (10.96.x.x), an address that is not on this machine.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KubeClient } from './kube-client';
import { Server, freePort, waitFor } from './processes';
import type { Tools } from './tools';

export const DISABLED_ADMISSION_PLUGINS = ['MutatingAdmissionWebhook', 'ValidatingAdmissionWebhook'];
const SERVICE_CIDR = '10.96.0.0/16';

export interface Cluster {
  client: KubeClient;
  kubeconfig: string;
  /** The kubeconfig's context: named like kind's, so Tilt treats the server as the local cluster it is. */
  context: string;
  apiserverPid: number;
  /** The server's self-signed serving certificate and key (apiserver.crt, apiserver.key). */
  pki: string;
  stop(): Promise<void>;
}

function writeKubeconfig(path: string, server: string, ca: string, token: string, context: string): void {
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: context, cluster: { server, 'certificate-authority-data': Buffer.from(ca).toString('base64') } }],
    users: [{ name: 'verify', user: { token } }],
    contexts: [{ name: context, context: { cluster: context, user: 'verify', namespace: 'default' } }],
    'current-context': context,
  };
  // JSON is YAML: every kubeconfig reader accepts it.
  writeFileSync(path, JSON.stringify(config, null, 2), { mode: 0o600 });
}

export async function startCluster(tools: Tools, work: string): Promise<Cluster> {
  mkdirSync(join(work, 'pki'), { recursive: true });
  const token = randomBytes(24).toString('hex');
  writeFileSync(join(work, 'tokens.csv'), `${token},verify,verify,"system:masters"\n`, { mode: 0o600 });
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(join(work, 'pki/sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
  writeFileSync(join(work, 'pki/sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });

  const [etcdPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  const etcdUrl = `http://127.0.0.1:${etcdPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const etcd = new Server(
    'etcd',
    tools.etcd,
    [
      '--name=verify',
      `--data-dir=${join(work, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=verify=${peerUrl}`,
      '--listen-metrics-urls=',
    ],
    join(work, 'etcd.log'),
  );
  const apiserver = new Server(
    'kube-apiserver',
    tools.kubeApiserver,
    [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      `--cert-dir=${join(work, 'pki')}`,
      `--token-auth-file=${join(work, 'tokens.csv')}`,
      '--authorization-mode=RBAC',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${join(work, 'pki/sa.pub')}`,
      `--service-account-signing-key-file=${join(work, 'pki/sa.key')}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      // The server refuses to advertise 127.0.0.1 for the `kubernetes` Service's endpoints; nothing here needs them.
      '--endpoint-reconciler-type=none',
      `--disable-admission-plugins=${DISABLED_ADMISSION_PLUGINS.join(',')}`,
      '--profiling=false',
      // Reads straight from etcd. The watch cache serves a consistent read once it has caught up with etcd's revision, which
      // for a resource nobody writes only a progress notification from etcd moves; with Debian's etcd 3.4 a cache
      // once stayed at revision 1 ("Too large resource version: 214, current: 1" for two minutes, in a fresh-clone CI run)
      // and the server never turned ready. A control plane holding a few hundred objects gains nothing from the cache.
      '--watch-cache=false',
    ],
    join(work, 'kube-apiserver.log'),
  );
  const stop = async () => {
    await apiserver.stop();
    await etcd.stop();
  };
  try {
    etcd.start();
    await waitFor(etcd, 'health', async () => (await fetch(`${etcdUrl}/health`)).ok, 30_000);
    apiserver.start();
    const server = `https://127.0.0.1:${apiPort}`;
    // The server writes its self-signed serving certificate (for 127.0.0.1) into --cert-dir before it listens.
    let client: KubeClient | undefined;
    let lastReadyz = '(never answered)';
    await waitFor(
      apiserver,
      'readiness',
      async () => {
        client ??= new KubeClient(server, token, readFileSync(join(work, 'pki/apiserver.crt'), 'utf8'));
        const readyz = await client.request('GET', '/readyz?verbose');
        lastReadyz = String(readyz.body);
        return readyz.status === 200;
      },
      120_000,
    ).catch((err: Error) => {
      // Which of its checks kept it unready, besides its log's last lines.
      throw new Error(`${err.message}\nits last /readyz?verbose:\n${lastReadyz.split('\n').filter((l) => !l.includes(' ok')).join('\n')}`);
    });
    await client!.discover();
    const context = 'kind-greeting-mesh';
    const kubeconfig = join(work, 'kubeconfig');
    writeKubeconfig(kubeconfig, server, readFileSync(join(work, 'pki/apiserver.crt'), 'utf8'), token, context);
    return { client: client!, kubeconfig, context, apiserverPid: apiserver.pid!, pki: join(work, 'pki'), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
