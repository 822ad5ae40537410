import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { InvalidInput } from '../../../../core/errors.js';
import { type Actor, assertMayManage } from '../../../../core/policy.js';
import {
  Duration,
  describeIssues,
  formatDuration,
  isFinal,
  LIVE_STATUSES,
} from '../../../../core/sandbox.js';
import { renderHelp, renderUsageError, type Subcommand, USAGE } from '../../blocks/help.js';
import { renderCreateModal } from '../../blocks/modals.js';
import {
  renderDestroyConfirmation,
  renderSandboxList,
  renderSandboxStatus,
} from '../../blocks/sandbox-list.js';
import { escapeText, nodes, type RenderedMessage } from '../../blocks/text.js';
import {
  CommandSyntaxError,
  type CreateArgs,
  type ParsedCommand,
  parseCommand,
} from '../../parse-command.js';
import type { SlackDeps } from '../../slack-deps.js';
import { cancelRequest, extendSandbox, findSandbox, sendKubeconfig, startTests } from '../operations.js';
import { describeError, ephemeral, notice, replyEphemeral } from '../replies.js';

export type CommandArgs = SlackCommandMiddlewareArgs & AllMiddlewareArgs;

/**
 * `/sandbox …`. Most answers come from SQLite alone, so they go back in the acknowledgement itself, as Slack
 * shows a command's ack body to the user; the few that call Slack (the create modal, the kubeconfig file) or
 * start kubectl (tests) are acknowledged first and answered through the response_url. Bad input is answered
 * with what was wrong and the accepted form, and changes nothing.
 */
export function sandboxCommand(deps: SlackDeps) {
  return async ({ ack, command }: CommandArgs): Promise<void> => {
    const actor = deps.actors.resolve(command.user_id);
    deps.actors.refreshSoon();

    let parsed: ParsedCommand;
    try {
      parsed = parseCommand(command.text);
    } catch (error) {
      if (!(error instanceof CommandSyntaxError)) throw error;
      await ack(ephemeral(renderUsageError(escapeText(error.message), error.usage)));
      return;
    }

    const later = answeredLater(parsed);
    if (later) await ack();
    let reply: RenderedMessage | undefined;
    try {
      reply = await run(deps, actor, parsed, command.trigger_id);
    } catch (error) {
      reply = renderUsageError(
        describeError(error, deps, { command: parsed.sub, user: actor.id }),
        USAGE[parsed.sub as Subcommand],
      );
    }
    if (!later) await ack(reply && ephemeral(reply));
    else if (reply) await replyEphemeral(deps, command.response_url, reply);
  };
}

/** Subcommands whose work must not hold up the ack: they call Slack or start kubectl. */
const answeredLater = (parsed: ParsedCommand): boolean =>
  parsed.sub === 'kubeconfig' ||
  parsed.sub === 'test' ||
  (parsed.sub === 'create' && parsed.input === undefined);

async function run(
  deps: SlackDeps,
  actor: Actor,
  parsed: ParsedCommand,
  triggerId: string,
): Promise<RenderedMessage | undefined> {
  const { service } = deps;
  switch (parsed.sub) {
    case 'help':
      return renderHelp(
        service.options,
        parsed.unknown === undefined
          ? undefined
          : `\`${escapeText(parsed.unknown)}\` is not a sandbox command. These are:`,
      );

    case 'create': {
      if (parsed.input === undefined) {
        await deps.call('views.open', () =>
          deps.client.views.open({ trigger_id: triggerId, view: renderCreateModal(service.options) }),
        );
        return undefined;
      }
      const sandbox = service.request(actor, definedOnly(parsed.input), { via: 'slack' });
      return notice(
        `:inbox_tray: Your request for *${sandbox.name}* (${nodes(sandbox)}, ${formatDuration(sandbox.ttlMs)}) is waiting for approval in <#${deps.approversChannel}>. Request id \`${sandbox.approvalId}\`. I will DM you when it is decided.`,
      );
    }

    case 'list': {
      const sandboxes = parsed.all
        ? service.listVisible(actor, { statuses: LIVE_STATUSES, limit: 200 })
        : service.list({ owner: actor.id, statuses: LIVE_STATUSES, limit: 200 });
      return renderSandboxList(sandboxes, deps.clock.now(), parsed.all, (s) => service.outages.problemOf(s));
    }

    case 'status': {
      const sandbox = service.view(actor, findSandbox(deps, parsed.name).id);
      return renderSandboxStatus(
        sandbox,
        deps.tests.lastResult(sandbox.id),
        deps.clock.now(),
        service.outages.problemOf(sandbox),
      );
    }

    case 'kubeconfig':
      return sendKubeconfig(deps, actor, findSandbox(deps, parsed.name).id);

    case 'extend': {
      const sandbox = findSandbox(deps, parsed.name);
      let byMs: number | undefined;
      if (parsed.duration !== undefined) {
        const duration = Duration.safeParse(parsed.duration);
        if (!duration.success) throw new InvalidInput(`The extension ${describeIssues(duration.error)}.`);
        byMs = duration.data;
      }
      return extendSandbox(deps, actor, sandbox.id, byMs);
    }

    case 'destroy': {
      // Destroying asks first; the button calls the core, which decides for real.
      const sandbox = findSandbox(deps, parsed.name);
      assertMayManage(actor, sandbox, 'destroy');
      if (isFinal(sandbox.status)) {
        return notice(
          `*${sandbox.name}* is already ${sandbox.status.toLowerCase()}; there is nothing to destroy.`,
        );
      }
      return renderDestroyConfirmation(sandbox);
    }

    case 'cancel':
      return cancelRequest(deps, actor, findSandbox(deps, parsed.name).id);

    case 'test':
      return startTests(deps, actor, findSandbox(deps, parsed.name), parsed.suite);
  }
}

/** The core's schema is strict about unknown keys and exactOptionalPropertyTypes about undefined ones. */
function definedOnly(input: CreateArgs): Record<string, string> {
  return Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) as Record<
    string,
    string
  >;
}
