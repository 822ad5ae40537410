// The process bench/memory.ts measures: the real app (buildApp + start, configured from the environment it is
// forked with) with clusters kept in memory, and nothing else. bench/memory.ts compiles it with src/ to plain
// JavaScript and runs it the way `npm start` runs the bot (node, no tsx), with --expose-gc and IPC:
// `sample` waits until all work is done, collects garbage and answers process.memoryUsage();
// `statuses` answers the id and status of sandboxes by name.
import { setTimeout as sleep } from 'node:timers/promises';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import type { ClusterInfo, ClusterRuntime, CreateClusterSpec } from '../../src/core/ports.js';

/** Clusters that exist as soon as they are asked for; no journal, so it holds only live clusters. */
class InstantClusters implements ClusterRuntime {
  private readonly clusters = new Map<string, CreateClusterSpec>();
  async create(spec: CreateClusterSpec): Promise<void> {
    this.clusters.set(spec.clusterName, spec);
  }
  async kubeconfig(name: string): Promise<string> {
    const port = this.clusters.get(name)?.apiPort ?? 6550;
    return `apiVersion: v1\nkind: Config\nclusters:\n- name: k3d-${name}\n  cluster:\n    server: https://127.0.0.1:${port}\nusers:\n- name: admin@k3d-${name}\n  user:\n    client-key-data: ${Buffer.alloc(1200, name).toString('base64')}\n`;
  }
  async delete(name: string): Promise<void> {
    this.clusters.delete(name);
  }
  async leftovers(): Promise<string[]> {
    return [];
  }
  async removeLeftovers(): Promise<boolean> {
    return true;
  }
  async list(): Promise<ClusterInfo[]> {
    return [...this.clusters.values()].map((c) => ({
      name: c.clusterName,
      serversRunning: c.servers,
      serversCount: c.servers,
      agentsRunning: c.agents,
      agentsCount: c.agents,
      loadBalancerRunning: true,
      ours: true,
    }));
  }
}

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc || !process.send) {
  console.error('memory-app: fork me with --expose-gc and IPC (see bench/memory.ts)');
  process.exit(2);
}

const app = buildApp(loadConfig(process.env), { runtime: new InstantClusters(), destroyBackoffMs: 10 });
const { port } = await app.start();

process.on('message', async (message: { id: number; type: string; names?: string[] }) => {
  if (message.type === 'sample') {
    await app.provisioner.idle();
    await app.events.idle();
    await sleep(200); // answers through response_url go out after the ack
    gc();
    gc();
    process.send?.({ id: message.id, result: process.memoryUsage() });
  } else if (message.type === 'statuses') {
    const result = (message.names ?? []).map((name) => {
      const sandbox = app.service.getByName(name);
      return sandbox ? { id: sandbox.id, status: sandbox.status } : undefined;
    });
    process.send?.({ id: message.id, result });
  }
});
process.on('disconnect', () => {
  void app.stop(5000).then(() => process.exit(0));
});
process.send({ port });
