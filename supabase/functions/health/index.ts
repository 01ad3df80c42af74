import { serve } from "../_runtime/serve.ts";
import { health } from "../_shared/health/main.ts";

serve(health);
