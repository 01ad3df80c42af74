import { serve } from "../_runtime/serve.ts";
import { postCallNotify } from "../_shared/post-call-notify/main.ts";

serve(postCallNotify);
