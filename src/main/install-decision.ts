import type { AgentReadiness } from './shell-agent.js';

/** What asks for the install: the app quitting, the configured quiet hour, or someone choosing "install now". */
export type InstallTrigger = 'quit' | 'quiet-hour' | 'manual';

/** Why an update waits; the window puts each into words. */
export type InstallBlock =
  'no-update' | 'commit-in-progress' | 'storage-unwritable' | 'sales-unsent' | 'agent-down';

export interface InstallInputs {
  trigger: InstallTrigger;
  /** An update has been downloaded and verified. */
  updateReady: boolean;
  /**
   * Install even with sales unsent: store IT's choice (config) or a manager who confirmed it. Nothing
   * forces an install during a commit or onto an outbox that cannot be written.
   */
  force: boolean;
  /** The agent's answer, or null when the agent is not running (crashed, or already stopped). */
  readiness: AgentReadiness | null;
}

export type InstallDecision =
  | { install: true }
  | {
      install: false;
      reason: InstallBlock;
      /** When to ask again: soon for a commit that is about to finish, later for the rest. */
      retry: 'soon' | 'later' | 'never';
    };

/**
 * May the downloaded update be installed now? Pure, so every rule is unit-tested:
 * - never during a commit: the installer stops the app, and a sale answered 201 must be on disk first;
 * - never while the outbox cannot be written: the new version's first start may migrate the outbox, and a
 *   full or read-only disk would leave the store unable to capture after the update;
 * - not with sales unsent unless forced: an update is a risk worth taking once head office has everything;
 * - an agent that is not running cannot be asked; only a forced install goes ahead (a crashing agent may be
 *   exactly what the update fixes).
 */
export function decideInstall(input: InstallInputs): InstallDecision {
  if (!input.updateReady) return { install: false, reason: 'no-update', retry: 'never' };
  const { readiness } = input;
  if (readiness === null)
    return input.force ? { install: true } : { install: false, reason: 'agent-down', retry: 'later' };
  if (readiness.commitsInFlight > 0) return { install: false, reason: 'commit-in-progress', retry: 'soon' };
  if (!readiness.storageWritable) return { install: false, reason: 'storage-unwritable', retry: 'later' };
  if (readiness.unsentCount > 0 && !input.force)
    return { install: false, reason: 'sales-unsent', retry: 'later' };
  return { install: true };
}
