import { serve } from "../_runtime/serve.ts";
import { emailInbound } from "../_shared/email-inbound/main.ts";

serve(emailInbound);
