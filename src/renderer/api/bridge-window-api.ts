import {
  deadLetterActionOutcomeSchema,
  windowMessageSchema,
  windowSnapshotSchema,
  type DeadLetterActionOutcome,
  type WindowApi,
  type WindowBridge,
} from '../../contracts/window-api.js';

const garbled: DeadLetterActionOutcome = {
  ok: false,
  refusal: 'unavailable',
  message: 'the app gave an answer this window does not understand',
};

/**
 * The window's API inside the desktop app: the preload's bridge, with every answer validated here, since
 * it crossed a process boundary. The desktop app runs in the store manager's own session, like the
 * `outpost deadletters` command, so its actions need no manager credential.
 */
export function createBridgeWindowApi(bridge: WindowBridge): WindowApi {
  const outcome = async (answer: Promise<unknown>): Promise<DeadLetterActionOutcome> => {
    try {
      const parsed = deadLetterActionOutcomeSchema.safeParse(await answer);
      return parsed.success ? parsed.data : garbled;
    } catch (error) {
      return {
        ok: false,
        refusal: 'unreachable',
        message: error instanceof Error ? error.message : String(error),
      };
    }
  };
  return {
    actionsNeedCredential: false,
    async snapshot() {
      return windowSnapshotSchema.parse(await bridge.snapshot());
    },
    subscribe(onMessage, onLink) {
      return bridge.subscribe(
        (message) => {
          const parsed = windowMessageSchema.safeParse(message);
          if (parsed.success) onMessage(parsed.data);
        },
        (state) => onLink?.(state),
      );
    },
    retryDeadLetter: (eventId) => outcome(bridge.retryDeadLetter(eventId)),
    discardDeadLetter: (eventId, note) => outcome(bridge.discardDeadLetter(eventId, note)),
  };
}
