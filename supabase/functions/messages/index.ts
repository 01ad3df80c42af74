import { serve } from "../_runtime/serve.ts";
import { messages } from "../_shared/messages/main.ts";

serve(messages);
