import type { SlackDeps } from '../../slack-deps.js';
import { sendKubeconfig as send } from '../operations.js';
import { onClick } from './button-args.js';

/**
 * "Kubeconfig" in App Home: the file goes to the clicker's DMs (the core checks they may have it). The upload
 * can outlast the click's 3 s trigger_id, so a waiting modal opens first and then shows the outcome.
 */
export const sendKubeconfig = (deps: SlackDeps) =>
  onClick(deps, 'kubeconfig', (actor, id) => send(deps, actor, id), {
    waiting: ':hourglass_flowing_sand: Sending the kubeconfig to your DMs…',
  });
