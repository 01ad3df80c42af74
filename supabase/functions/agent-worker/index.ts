import { serve } from "../_runtime/serve.ts";
import { agentWorker } from "../_shared/agent-worker/main.ts";

serve(agentWorker);
