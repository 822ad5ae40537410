import { z } from 'zod';
import type { ClusterInfo } from '../../core/ports.js';

/**
 * The Docker label the bot puts on every node it creates (`--runtime-label`), valued with its cluster prefix. k3d
 * reserves keys starting with `k3d.` but lists every label whose key starts with `k3d` (translate.go in
 * TranslateContainerDetailsToNode, v5.0.0 to v5.9.0), so `cluster list` tells the clusters the bot made.
 */
export const OWNER_LABEL = 'k3d-sandbox-bot.prefix';

/** The part of `k3d cluster list -o json` the bot relies on; other keys are allowed and ignored. */
const ClusterListJson = z.array(
  z.looseObject({
    name: z.string(),
    serversRunning: z.number().int(),
    serversCount: z.number().int(),
    agentsRunning: z.number().int(),
    agentsCount: z.number().int(),
    // Only whether the load balancer runs is read from the nodes; an odd node shape must not blind the list.
    nodes: z
      .array(
        z.looseObject({
          role: z.unknown(),
          State: z.looseObject({ Running: z.unknown() }).optional(),
          runtimeLabels: z.record(z.string(), z.unknown()).optional(),
        }),
      )
      .default([]),
  }),
);

/** The clusters listed; `ours` when a node carries OWNER_LABEL with `prefix`. */
export function parseClusterList(stdout: string, prefix: string): ClusterInfo[] | undefined {
  let json: unknown;
  try {
    json = JSON.parse(stdout.trim() || 'null');
  } catch {
    return undefined;
  }
  const parsed = ClusterListJson.safeParse(json);
  if (!parsed.success) return undefined;
  return parsed.data.map(({ name, serversRunning, serversCount, agentsRunning, agentsCount, nodes }) => ({
    name,
    serversRunning,
    serversCount,
    agentsRunning,
    agentsCount,
    loadBalancerRunning: nodes.some((n) => n.role === 'loadbalancer' && n.State?.Running === true),
    ours: nodes.some((n) => n.runtimeLabels?.[OWNER_LABEL] === prefix),
  }));
}

/** `k3d kubeconfig get` prints a `---` document marker first; the kubeconfig is what follows. */
export function parseKubeconfig(stdout: string): string | undefined {
  const yaml = stdout.replace(/^---\s*\n/, '');
  return /^apiVersion: v1$/m.test(yaml) && /^clusters:$/m.test(yaml) && /^users:$/m.test(yaml)
    ? yaml
    : undefined;
}

/**
 * The message of the most telling log line, from k3d's logfmt output (LOG_COLORS=false):
 * the first ERRO line names the phase that failed; the FATA line only says "rolled back".
 */
export function failureReason(stderr: string): string | undefined {
  const messages = (level: string) =>
    [...stderr.matchAll(new RegExp(`level=${level} msg="((?:[^"\\\\]|\\\\.)*)"`, 'g'))].map((m) =>
      (m[1] ?? '').replace(/\\"/g, '"').replace(/\\\\/g, '\\'),
    );
  const plain = stderr.match(/^(?:FATA|ERRO)\S*\s+(.+)$/m)?.[1]?.trim();
  return messages('error')[0] ?? messages('fatal')[0] ?? plain;
}
