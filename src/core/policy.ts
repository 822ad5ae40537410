import { Forbidden } from './errors.js';
import type { Sandbox } from './sandbox.js';

/** Whoever is acting, with the roles the door that received the request resolved for them. */
export interface Actor {
  /** A Slack user id (`U…`), an API identity (`api:<token name>`) or `system`. */
  id: string;
  isApprover: boolean;
  isAdmin: boolean;
}

export const SYSTEM_ACTOR: Actor = { id: 'system', isApprover: true, isAdmin: true };

export interface PolicyOptions {
  allowSelfApproval: boolean;
}

function ownsOrAsked(actor: Actor, sandbox: Sandbox): boolean {
  return actor.id === sandbox.owner || actor.id === sandbox.requestedBy;
}

/** Only approvers decide, and never on their own request unless self-approval is switched on. */
export function assertMayDecide(
  actor: Actor,
  sandbox: Sandbox,
  options: PolicyOptions,
  verb: 'approve' | 'deny',
): void {
  if (!actor.isApprover) {
    throw new Forbidden(`Only approvers may ${verb} sandbox requests; ask someone in the approvers channel.`);
  }
  if (verb === 'approve' && !options.allowSelfApproval && ownsOrAsked(actor, sandbox)) {
    throw new Forbidden('You cannot approve your own request; another approver has to.');
  }
}

/** The owner, whoever filed the request on their behalf, and admins may manage a sandbox. */
export function assertMayManage(actor: Actor, sandbox: Sandbox, verb: string): void {
  if (!actor.isAdmin && !ownsOrAsked(actor, sandbox)) {
    throw new Forbidden(`Only the owner of ${sandbox.name} or an admin may ${verb} it.`);
  }
}

/** Approvers and admins may view every sandbox; anyone else, those they own or asked for. */
export function mayViewAll(actor: Actor): boolean {
  return actor.isAdmin || actor.isApprover;
}

/** Reading a sandbox's details is open to those who may manage it and to approvers. */
export function mayView(actor: Actor, sandbox: Sandbox): boolean {
  return mayViewAll(actor) || ownsOrAsked(actor, sandbox);
}
