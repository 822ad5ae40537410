import { checkCoreDns, checkNodes } from './cluster-checks.js';
import { kubectlTimeout, StepFailure, type SuiteRun } from './suite-run.js';
import { inTempNamespace, tempNamespaceName } from './temp-namespace.js';

export interface SmokeSuiteOptions {
  /** The web server image to deploy (`SANDBOX_SMOKE_IMAGE`); it must answer HTTP on port 80. */
  image: string;
  stepTimeoutMs: number;
  /** For the rollout, which includes pulling the image. */
  waitTimeoutMs: number;
}

const APP = 'smoke-web';

/**
 * A Deployment of `image` and a Service in front of it, as one JSON List for `kubectl apply -f -`. JSON rather
 * than YAML so that no image name can change the document's structure.
 */
function smokeWorkload(image: string): string {
  const labels = { app: APP, 'app.kubernetes.io/managed-by': 'k3d-sandbox-bot' };
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: APP, labels },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: APP } },
      template: {
        metadata: { labels },
        spec: {
          containers: [
            {
              name: 'web',
              image,
              ports: [{ containerPort: 80, name: 'http' }],
              readinessProbe: { httpGet: { path: '/', port: 80 }, periodSeconds: 2 },
            },
          ],
        },
      },
    },
  };
  const service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: APP, labels },
    spec: { selector: { app: APP }, ports: [{ name: 'http', port: 80, targetPort: 80 }] },
  };
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [deployment, service] });
}

/**
 * The default suite: the cluster's nodes and DNS, then a web server deployed into a temporary namespace and
 * fetched through the API server's service proxy, which needs no port-forward and no host port.
 */
export async function runSmokeSuite(
  run: SuiteRun,
  cluster: { servers: number; agents: number },
  options: SmokeSuiteOptions,
): Promise<void> {
  const { image, stepTimeoutMs, waitTimeoutMs } = options;
  // The workload steps run even when a node check failed: their results tell more about what is broken.
  await checkNodes(run, cluster, stepTimeoutMs);
  await checkCoreDns(run, stepTimeoutMs);
  const ns = tempNamespaceName('smoke');
  await inTempNamespace(run, ns, stepTimeoutMs, async () => {
    const deployed = await run.step(`deploy ${image} with a service`, stepTimeoutMs, (step) =>
      step.kubectl(['apply', '-n', ns, '-f', '-'], smokeWorkload(image)),
    );
    if (!deployed) return;
    const rolledOut = await run.step(`rollout of deployment/${APP}`, waitTimeoutMs, (step) =>
      step.kubectl([
        'rollout',
        'status',
        `deployment/${APP}`,
        '-n',
        ns,
        `--timeout=${kubectlTimeout(step.timeoutMs)}`,
      ]),
    );
    if (!rolledOut) return;
    await run.step('service answers through the API server proxy', stepTimeoutMs, async (step) => {
      const url = `/api/v1/namespaces/${ns}/services/${APP}:80/proxy/`;
      // Endpoints can lag the rollout by a moment, so a refusal is retried until the step's time is up.
      await step.until(() =>
        step.kubectl(['get', '--raw', url]).then(
          () => undefined,
          (error: unknown) => {
            if (!(error instanceof StepFailure) || !error.retryable) throw error;
            return error.message;
          },
        ),
      );
    });
  });
}
