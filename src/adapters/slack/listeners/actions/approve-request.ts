import type { SlackDeps } from '../../slack-deps.js';
import { onClick } from './button-args.js';

/**
 * Approve, on the approval message or in App Home. The core refuses non-approvers and self-approval, and
 * its compare-and-set makes the second of two concurrent clicks lose; the loser is told who decided.
 * Success needs no answer: the notifier rewrites the message and App Home.
 */
export const approveRequest = (deps: SlackDeps) =>
  onClick(
    deps,
    'approve',
    async (actor, id) => {
      deps.service.approve(actor, id);
      return undefined;
    },
    { refusalIcon: ':warning:', decides: true },
  );
