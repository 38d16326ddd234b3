import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { loadConfig, settingNames } from '@semibot/control-plane';

// No cluster and no Docker engine for compose run here: the deploy files are checked offline —
// every Kubernetes object against the API's schemas (kubernetes-models), and every file against
// what the product really reads, serves and builds.
const root = fileURLToPath(new URL('../../', import.meta.url));
const deploy = path.join(root, 'deploy');
type Doc = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> }; spec?: any; data?: Record<string, string> };

const manifests: Doc[] = readdirSync(path.join(deploy, 'kubernetes'))
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((f) => parseAllDocuments(readFileSync(path.join(deploy, 'kubernetes', f), 'utf8')).map((d) => d.toJS() as Doc));
const of = (kind: string) => manifests.filter((m) => m.kind === kind);
const matches = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);

describe('deploy/: Kubernetes manifests, compose file and Dockerfiles', () => {
  it('every Kubernetes object validates against its API schema', async () => {
    expect(manifests.map((m) => m.kind).sort()).toEqual([
      'ConfigMap', 'Deployment', 'Deployment', 'HorizontalPodAutoscaler', 'Ingress', 'PersistentVolumeClaim', 'PersistentVolumeClaim', 'PodDisruptionBudget', 'Service',
    ]);
    for (const m of manifests) {
      const [group, version] = m.apiVersion.includes('/') ? m.apiVersion.split('/') : ['', m.apiVersion];
      const mod = (await import(`kubernetes-models/${group ? `${group}/` : ''}${version}/${m.kind}`)) as Record<string, new (d: unknown) => { validate(): void }>;
      expect(() => new mod[m.kind]!(m).validate(), `${m.kind}/${m.metadata.name}`).not.toThrow();
    }
  });

  it('the gateway has probes on the real health routes, a drain window, and is what the Service, PDB and HPA point at', () => {
    const gw = of('Deployment').find((d) => d.metadata.name === 'semibot-gateway');
    const pod = gw!.spec.template;
    const c = pod.spec.containers[0];
    expect(c.readinessProbe.httpGet.path).toBe('/readyz');
    expect(c.livenessProbe.httpGet.path).toBe('/healthz');
    const cm = of('ConfigMap')[0]!.data!;
    // the pod's grace period outlasts the control plane's own drain
    expect(pod.spec.terminationGracePeriodSeconds * 1000).toBeGreaterThan(Number(cm.SEMIBOT_DRAIN_TIMEOUT_MS) + 5_000);
    expect(matches(of('Service')[0]!.spec.selector, pod.metadata.labels)).toBe(true);
    expect(matches(of('PodDisruptionBudget')[0]!.spec.selector.matchLabels, pod.metadata.labels)).toBe(true);
    expect(of('PodDisruptionBudget')[0]!.spec.minAvailable).toBeLessThan(gw!.spec.replicas);
    const hpa = of('HorizontalPodAutoscaler')[0]!;
    expect(hpa.spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: gw!.metadata.name });
    // the HPA scales on a metric /metrics really exposes
    const metric = hpa.spec.metrics.find((x: { type: string }) => x.type === 'External').external.metric.name;
    expect(readFileSync(path.join(root, 'apps/control-plane/src/http/metrics.ts'), 'utf8')).toContain(`name: '${metric}'`);
    const pvcs = of('PersistentVolumeClaim').map((c) => c.metadata.name);
    for (const d of of('Deployment')) {
      for (const v of d.spec.template.spec.volumes as { persistentVolumeClaim?: { claimName: string } }[]) {
        if (v.persistentVolumeClaim) expect(pvcs).toContain(v.persistentVolumeClaim.claimName);
      }
    }
    expect(of('Ingress')[0]!.spec.rules[0].http.paths[0].backend.service.name).toBe(of('Service')[0]!.metadata.name);
  });

  it('the configuration they set is configuration the control plane reads, and it loads', () => {
    const cm = of('ConfigMap')[0]!.data!;
    const gw = of('Deployment').find((d) => d.metadata.name === 'semibot-gateway')!.spec.template.spec.containers[0];
    // the secret's keys, as the manifest's header tells the operator to create them
    const header = readFileSync(path.join(deploy, 'kubernetes', 'semibot.yaml'), 'utf8');
    const secretKeys = [...header.matchAll(/--from-literal=(\w+)=/g)].map((m) => m[1]!);
    expect(secretKeys).toEqual(['DATABASE_URL', 'REDIS_URL', 'JWT_SECRET', 'SEMIBOT_LLM_API_KEY']);
    const names = [...Object.keys(cm), ...secretKeys, ...gw.env.map((e: { name: string }) => e.name)];
    expect(names.filter((n) => !settingNames.includes(n))).toEqual([]);
    const home = mkdtempSync(path.join(tmpdir(), 'semibot-deploy-'));
    const config = loadConfig({ ...cm, SEMIBOT_HOME: home, DATABASE_URL: 'postgres://x@db/semibot', REDIS_URL: 'redis://redis:6379', JWT_SECRET: 'x'.repeat(32), SEMIBOT_REPLICA_ID: 'semibot-gateway-abc' });
    expect(config).toMatchObject({ env: 'production', host: '0.0.0.0', port: 8080, replicaId: 'semibot-gateway-abc', runLeaseMs: 10_000 });
  });

  it('the pool planes mint their own credential for the configured pool and dial the gateway Service, never seeing the secret', () => {
    const pool = of('Deployment').find((d) => d.metadata.name === 'semibot-pool')!.spec.template.spec;
    const cm = of('ConfigMap')[0]!.data!;
    const [init] = pool.initContainers;
    expect(init.command.join(' ')).toContain(`pool-token.js --pool ${cm.SEMIBOT_PLANE_POOL}`);
    expect(init.env.find((e: { name: string }) => e.name === 'JWT_SECRET').valueFrom.secretKeyRef.name).toBe('semibot');
    const plane = pool.containers[0];
    expect(plane.envFrom).toBeUndefined();
    expect(JSON.stringify(plane.env)).not.toContain('secretKeyRef');
    const env = Object.fromEntries(plane.env.map((e: { name: string; value: string }) => [e.name, e.value]));
    expect(env.SEMIBOT_CONTROL_URL).toBe(`ws://${of('Service')[0]!.metadata.name}/ws/vm`);
    // the plane reads exactly these settings
    const runtimeMain = readFileSync(path.join(root, 'apps/runtime/src/main.ts'), 'utf8');
    for (const name of Object.keys(env)) expect(runtimeMain).toContain(name);
  });

  it('the compose file runs three gateways on Postgres + Redis behind the balancer, with settings that load', () => {
    const compose = parseAllDocuments(readFileSync(path.join(deploy, 'compose.yaml'), 'utf8'), { merge: true })[0]!.toJS() as {
      services: Record<string, { environment?: Record<string, string>; build?: { dockerfile: string } }>;
    };
    const gateways = Object.keys(compose.services).filter((s) => s.startsWith('gateway-'));
    expect(gateways).toEqual(['gateway-1', 'gateway-2', 'gateway-3']);
    expect(Object.keys(compose.services)).toEqual(expect.arrayContaining(['postgres', 'redis', 'lb', 'pool-tokens', 'pool-1', 'pool-2']));
    for (const name of ['pool-1', 'pool-2']) {
      const env = compose.services[name]!.environment!;
      expect(env.SEMIBOT_CONTROL_URL).toBe('ws://lb:8080/ws/vm');
      expect((compose.services['pool-tokens'] as unknown as { command: string[] }).command.join(' ')).toContain(`> ${env.SEMIBOT_VM_TOKEN_FILE!.replace(/\d$/, '$$$$i')}`);
    }
    const haproxy = readFileSync(path.join(deploy, 'haproxy.cfg'), 'utf8');
    for (const g of gateways) {
      expect(haproxy).toContain(`${g}:8080 check`);
      const env = compose.services[g]!.environment!;
      expect(Object.keys(env).filter((n) => !settingNames.includes(n))).toEqual([]);
      const resolved = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v).replace(/\$\{JWT_SECRET[^}]*\}/, 'secret').replace(/\$\{[^}]*:-\}/, '')]));
      expect(loadConfig({ ...resolved, SEMIBOT_HOME: mkdtempSync(path.join(tmpdir(), 'semibot-deploy-')) })).toMatchObject({ redisUrl: 'redis://redis:6379' });
      expect(existsSync(path.join(root, compose.services[g]!.build!.dockerfile))).toBe(true);
    }
  });

  it('the Dockerfiles copy files that exist and start entry points the build produces', () => {
    for (const file of ['Dockerfile.control-plane', 'Dockerfile.runtime']) {
      const text = readFileSync(path.join(deploy, file), 'utf8');
      for (const [, sources] of text.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
        for (const src of sources!.split(' ')) expect(existsSync(path.join(root, src)), `${file}: ${src}`).toBe(true);
      }
      const cmd = JSON.parse(/^CMD (.+)$/m.exec(text)![1]!) as string[];
      expect(existsSync(path.join(root, cmd.at(-1)!)), `${file}: ${cmd.at(-1)}`).toBe(true);
    }
  });
});
