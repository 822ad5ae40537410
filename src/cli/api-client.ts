import type { z } from 'zod';
import {
  ApproveResponse,
  CreateSandboxResponse,
  DestroyResponse,
  KubeconfigResponse,
} from '../adapters/http/rest/contracts.js';
import { SandboxStatusView, TestResultView } from '../core/api-view.js';
import type { Connection } from './cli-env.js';

/** A refusal or failure from the server (with its HTTP status and `detail`), or a server that cannot be reached. */
export class ApiError extends Error {
  constructor(
    message: string,
    /** 0 when no answer came. */
    readonly status: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface CreateRequest {
  name: string;
  servers?: number;
  agents?: number;
  ttl_minutes?: number;
  owner?: string;
  reason?: string;
}

const SHORT_TIMEOUT_MS = 30_000;
/** A smoke test runs while the request waits. */
const TEST_TIMEOUT_MS = 20 * 60_000;

/** A client of the bot's REST API; every answer is checked against the same schemas the server renders with. */
export function createApiClient({ url, token }: Connection, fetchImpl: typeof fetch = fetch) {
  async function call<T extends z.ZodType>(
    method: 'GET' | 'POST',
    path: string,
    schema: T,
    options: { body?: unknown; query?: Record<string, string | undefined>; timeoutMs?: number } = {},
  ): Promise<z.output<T>> {
    const target = new URL(path, `${url}/`);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) target.searchParams.set(key, value);
    }
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetchImpl(target, {
        method,
        headers,
        signal: AbortSignal.timeout(options.timeoutMs ?? SHORT_TIMEOUT_MS),
        ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
      throw new ApiError(
        `Cannot reach the sandbox bot at ${url} (${cause}): is \`k3d-sandbox-bot serve\` running there? Set --url or SANDBOX_URL.`,
        0,
      );
    }
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (!res.ok) {
      const detail = (body as { detail?: unknown } | undefined)?.detail;
      const hint = res.status === 401 && !token ? ' (pass --token or set SANDBOX_TOKEN)' : '';
      throw new ApiError(
        `${typeof detail === 'string' ? detail : `${method} ${path} failed`}${hint} [HTTP ${res.status}]`,
        res.status,
      );
    }
    const parsed = schema.safeParse(body);
    if (!parsed.success) {
      throw new ApiError(
        `${method} ${path} answered something this CLI does not understand: ${text.slice(0, 200)}`,
        res.status,
      );
    }
    return parsed.data;
  }

  const list = () => call('GET', 'list_active_sandboxes', SandboxStatusView.array());
  const status = (id: string) =>
    call('GET', `get_sandbox_status/${encodeURIComponent(id)}`, SandboxStatusView);

  return {
    url,
    list,
    /**
     * A sandbox or approval id as given; a name is looked up among the active sandboxes the caller may see. A
     * name can look like an id (`sb-cafe`), so an id the server does not know is tried as a name too.
     */
    async resolveId(idOrName: string): Promise<string> {
      if (/^(sb|ap)-[0-9a-f]+$/.test(idOrName)) {
        try {
          await status(idOrName);
          return idOrName;
        } catch (error) {
          if (!(error instanceof ApiError && error.status === 404)) throw error;
          const named = (await list()).find((s) => s.name === idOrName);
          if (!named) throw error;
          return named.id;
        }
      }
      const found = (await list()).find((s) => s.name === idOrName);
      if (!found) {
        throw new ApiError(
          `No active sandbox named ${idOrName} that you may see; \`k3d-sandbox-bot list\` shows them (or pass its sandbox_id).`,
          404,
        );
      }
      return found.id;
    },
    create: (request: CreateRequest) =>
      call('POST', 'create_sandbox', CreateSandboxResponse, { body: request }),
    approve: (approvalId: string, approver?: string) =>
      call('POST', 'approve', ApproveResponse, { query: { approval_id: approvalId, approver } }),
    status,
    kubeconfig: (id: string) => call('GET', `get_kubeconfig/${encodeURIComponent(id)}`, KubeconfigResponse),
    test: (id: string, suite: string) =>
      call('POST', 'run_test', TestResultView, {
        body: { sandbox_id: id, test_id: suite },
        timeoutMs: TEST_TIMEOUT_MS,
      }),
    destroy: (id: string) => call('POST', 'destroy_sandbox', DestroyResponse, { body: { sandbox_id: id } }),
  };
}

export type ApiClient = ReturnType<typeof createApiClient>;
