import { z } from 'zod';
import { packageVersion } from '../../../../lib/version.js';
import type { RestContracts, RouteContract } from '../contracts.js';
import type { RestHandler } from '../rest-deps.js';

const jsonSchema = (schema: z.ZodType, io: 'input' | 'output') =>
  z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;

function inputSchemaOf(contract: RouteContract): Record<string, unknown> {
  const shape = { ...contract.params?.shape, ...contract.query?.shape, ...contract.body?.shape };
  return jsonSchema(z.object(shape), 'input');
}

function inputsIn(contract: RouteContract): string[] {
  return [
    ...(contract.params ? ['path'] : []),
    ...(contract.query ? ['query'] : []),
    ...(contract.body ? ['body'] : []),
  ];
}

/** The manifest the original server published for its MCP proxy, generated from the route contracts. */
function renderManifest(contracts: RestContracts, tokensRequired: boolean) {
  const routes: RouteContract[] = Object.values(contracts);
  return {
    name: 'k3d-sandbox-bot',
    version: packageVersion(),
    description:
      'Ephemeral k3d Kubernetes sandboxes behind a human approval. Requests wait in PENDING_APPROVAL until an approver decides in Slack or through /approve.',
    mcp_endpoint: '/mcp',
    authentication: { type: 'bearer' as const, header: 'Authorization', required: tokensRequired },
    tools: routes
      .filter((contract) => contract !== contracts.manifest)
      .map((contract) => ({
        name: contract.name,
        description: contract.summary,
        method: contract.method.toUpperCase() as 'GET' | 'POST',
        path: contract.path.replace(/:(\w+)/g, '{$1}'),
        inputs_in: inputsIn(contract),
        roles: contract.roles,
        requires_approval: contract.requiresApproval,
        input_schema: inputSchemaOf(contract),
        output_schema: jsonSchema(contract.response, 'output'),
      })),
  };
}

/** GET /.well-known/mcp-manifest. Public: it describes the API and holds nothing secret. */
export function mcpManifest(contracts: RestContracts, tokensRequired: boolean): RestHandler {
  const manifest = renderManifest(contracts, tokensRequired);
  return () => manifest;
}
