import { serve } from "../_runtime/serve.ts";
import { emailUnsubscribe } from "../_shared/email-unsubscribe/main.ts";

serve(emailUnsubscribe);
