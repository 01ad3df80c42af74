import { serve } from "../_runtime/serve.ts";
import { genesysWebhook } from "../_shared/genesys-webhook/main.ts";

serve(genesysWebhook);
