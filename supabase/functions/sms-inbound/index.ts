import { serve } from "../_runtime/serve.ts";
import { smsInbound } from "../_shared/sms-inbound/main.ts";

serve(smsInbound);
