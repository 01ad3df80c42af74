import { serve } from "../_runtime/serve.ts";
import { metaWebhook } from "../_shared/meta-webhook/main.ts";

serve(metaWebhook);
