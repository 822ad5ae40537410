import type { SlackDeps } from '../../slack-deps.js';
import { sendKubeconfig as send } from '../operations.js';
import { onClick } from './button-args.js';

/** "Kubeconfig" in App Home: the file goes to the clicker's DMs (the core checks they may have it). */
export const sendKubeconfig = (deps: SlackDeps) =>
  onClick(deps, 'kubeconfig', (actor, id) => send(deps, actor, id));
