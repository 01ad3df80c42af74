import { serve } from "../_runtime/serve.ts";
import { waWebhook } from "../_shared/wa-webhook/main.ts";

serve(waWebhook);
