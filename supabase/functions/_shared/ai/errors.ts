import { APIConnectionError, APIError } from "openai";

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

/** An exception from the OpenAI SDK as an AgentError; `aborted` means our time budget ran out. */
export function classifyModelError(err: unknown, aborted: boolean): AgentError {
  if (err instanceof AgentError) return err;
  if (aborted) {
    return new AgentError("AI.TIMEOUT", "The model did not answer within the time budget");
  }
  if (err instanceof APIConnectionError) {
    return new AgentError("AI.UNREACHABLE", "The model endpoint could not be reached");
  }
  if (err instanceof APIError && err.status !== undefined) {
    return new AgentError(
      "AI.MODEL_ERROR",
      `The model endpoint answered HTTP ${err.status}`,
      err.status,
    );
  }
  return new AgentError("AI.MODEL_ERROR", "The model call failed");
}
