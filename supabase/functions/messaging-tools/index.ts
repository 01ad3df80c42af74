import { serve } from "../_runtime/serve.ts";
import { messagingTools } from "../_shared/messaging-tools/main.ts";

serve(messagingTools);
