import { parseReadinessList, type ReadinessSummary } from './kubectl-output.js';
import type { StepContext, SuiteRun } from './suite-run.js';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** What is wrong with the node list for a cluster of `servers` + `agents` nodes, or undefined when nothing is. */
export function nodeProblem(nodes: ReadinessSummary[], servers: number, agents: number): string | undefined {
  const expected = servers + agents;
  const problems: string[] = [];
  if (nodes.length !== expected) {
    problems.push(
      `expected ${plural(expected, 'node')} (${plural(servers, 'server')} + ${plural(agents, 'agent')}), the API lists ${nodes.length}`,
    );
  }
  const notReady = nodes.filter((n) => !n.ready);
  if (notReady.length > 0) {
    problems.push(`not Ready: ${notReady.map((n) => `${n.name} (${n.reason})`).join(', ')}`);
  }
  return problems.length > 0 ? problems.join('; ') : undefined;
}

/** What is wrong with the CoreDNS pods, or undefined when at least one is Ready to answer. */
export function coreDnsProblem(pods: ReadinessSummary[]): string | undefined {
  if (pods.length === 0) return 'no CoreDNS pod (kube-system, k8s-app=kube-dns) exists';
  if (pods.some((p) => p.ready)) return undefined;
  return `no CoreDNS pod is Ready: ${pods.map((p) => `${p.name} (${p.reason})`).join(', ')}`;
}

/** Reads a `-o json` list, failing the step (not retrying) when kubectl printed something else. */
async function readinessList(step: StepContext, args: string[]): Promise<ReadinessSummary[]> {
  const items = parseReadinessList(await step.kubectl(args));
  if (!items) throw new Error(`kubectl ${args.join(' ')} printed output that is not the expected JSON list`);
  return items;
}

/** Step: every node is Ready and there are exactly servers + agents of them. */
export function checkNodes(
  run: SuiteRun,
  cluster: { servers: number; agents: number },
  timeoutMs: number,
): Promise<boolean> {
  const name = `nodes Ready (${plural(cluster.servers, 'server')} + ${plural(cluster.agents, 'agent')})`;
  return run.step(name, timeoutMs, (step) =>
    step.until(async () =>
      nodeProblem(await readinessList(step, ['get', 'nodes', '-o', 'json']), cluster.servers, cluster.agents),
    ),
  );
}

/** Step: CoreDNS answers, so workloads can resolve service names. */
export function checkCoreDns(run: SuiteRun, timeoutMs: number): Promise<boolean> {
  return run.step('CoreDNS ready', timeoutMs, (step) =>
    step.until(async () =>
      coreDnsProblem(
        await readinessList(step, [
          'get',
          'pods',
          '-n',
          'kube-system',
          '-l',
          'k8s-app=kube-dns',
          '-o',
          'json',
        ]),
      ),
    ),
  );
}
