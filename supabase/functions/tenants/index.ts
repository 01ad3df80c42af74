import { serve } from "../_runtime/serve.ts";
import { tenants } from "../_shared/tenants/main.ts";

serve(tenants);
