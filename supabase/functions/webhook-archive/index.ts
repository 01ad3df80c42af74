import { serve } from "../_runtime/serve.ts";
import { webhookArchive } from "../_shared/webhook-archive/main.ts";

serve(webhookArchive);
