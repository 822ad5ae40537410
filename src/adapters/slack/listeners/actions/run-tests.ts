import { NotFound } from '../../../../core/errors.js';
import type { SlackDeps } from '../../slack-deps.js';
import { startTests } from '../operations.js';
import { onClick } from './button-args.js';

/** "Test" in App Home: runs the default suite; the result comes by DM and goes to the request's thread. */
export const runTests = (deps: SlackDeps) =>
  onClick(deps, 'test', async (actor, id) => {
    const sandbox = deps.service.get(id);
    if (!sandbox) throw new NotFound(`Sandbox ${id}`);
    return startTests(deps, actor, sandbox);
  });
