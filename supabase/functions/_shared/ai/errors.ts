/**
 * Why the agent produced no answer. Every one of these ends in the same place (the fallback
 * reply and a follow_up session), so the code is for logs and metrics, not for callers to branch.
 */
export type AgentErrorCode =
  | "AI.NOT_CONFIGURED"
  | "AI.TIMEOUT"
  | "AI.UNREACHABLE"
  | "AI.MODEL_ERROR"
  | "AI.EMPTY_REPLY"
  | "AI.NO_INSTRUCTIONS"
  | "AI.SESSION_NOT_FOUND";

export class AgentError extends Error {
  constructor(
    readonly code: AgentErrorCode,
    message: string,
    readonly httpStatus?: number,
  ) {
    super(message);
    this.name = "AgentError";
  }
}
