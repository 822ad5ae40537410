import type { Request } from 'express';
import type { Actor } from '../../../core/policy.js';
import type { Logger } from '../../../core/ports.js';
import type { SandboxService } from '../../../core/sandbox-service.js';
import type { TestRuns } from '../../../core/test-runs.js';

/** What the REST routes need from the core. */
export interface RestDeps {
  service: SandboxService;
  tests: TestRuns;
  logger: Logger;
  /** True when no API token is configured: callers are loopback clients acting as `api:local`. */
  localMode: boolean;
}

/** A route's handler: parses the request with its contract, calls the core, returns the JSON to send. */
export type RestHandler = (input: { req: Request; actor: Actor }) => unknown;
