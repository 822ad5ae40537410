import { formatDuration, type SandboxLimits } from '../../../core/sandbox.js';
import { SLASH_COMMAND } from '../ids.js';
import { context, escapeText, type RenderedMessage, section, truncate } from './text.js';

/** The accepted form of every subcommand; bad input is answered with the matching line. */
export const USAGE = {
  create: `${SLASH_COMMAND} create <name> [--servers N] [--agents N] [--ttl 4h] [--reason text…]`,
  list: `${SLASH_COMMAND} list [--all]`,
  status: `${SLASH_COMMAND} status <name>`,
  kubeconfig: `${SLASH_COMMAND} kubeconfig <name>`,
  extend: `${SLASH_COMMAND} extend <name> [duration]`,
  destroy: `${SLASH_COMMAND} destroy <name>`,
  cancel: `${SLASH_COMMAND} cancel <name>`,
  test: `${SLASH_COMMAND} test <name> [suite]`,
  help: `${SLASH_COMMAND} help`,
} as const;

export type Subcommand = keyof typeof USAGE;

const DESCRIPTION: Record<Subcommand, string> = {
  create: 'ask for a sandbox (without arguments: opens a form); flags also work as `servers=2 ttl=4h`',
  list: 'your sandboxes; `--all` shows every sandbox you may see',
  status: 'state, nodes, time left and the last test result',
  kubeconfig: 'sends the kubeconfig to your DMs again',
  extend: 'gives an active sandbox more time (default: the configured extension)',
  destroy: 'deletes the cluster, after you confirm',
  cancel: 'withdraws a request that has no cluster yet',
  test: 'runs a test suite (default `smoke`); results go to the request thread',
  help: 'this list',
};

/** The command reference, optionally led by what went wrong (an unknown subcommand). */
export function renderHelp(limits: SandboxLimits, problem?: string): RenderedMessage {
  const lines = (Object.keys(USAGE) as Subcommand[]).map(
    (sub) => `\`${USAGE[sub]}\`\n    ${DESCRIPTION[sub]}`,
  );
  const blocks = [
    ...(problem ? [section(`:warning: ${truncate(problem, 500)}`)] : []),
    section(`*Sandbox commands*\n${lines.join('\n')}`),
    context(
      `Names: lowercase letters, digits and "-". Limits: up to ${limits.maxServers} servers and ${limits.maxAgents} agents; TTL from 1m to ${formatDuration(limits.maxTtlMs)} (default ${formatDuration(limits.defaultTtlMs)}); durations look like 90m, 4h or 1d. App Home has buttons for all of this.`,
    ),
  ];
  return { text: problem ?? 'Sandbox commands', blocks };
}

/** A refusal or bad input: what was wrong, and the accepted form. Changes nothing. */
export function renderUsageError(problem: string, usage: string): RenderedMessage {
  return {
    text: problem,
    blocks: [section(`:warning: ${truncate(problem, 2500)}`), context(`Usage: \`${escapeText(usage)}\``)],
  };
}
