import { serve } from "../_runtime/serve.ts";
import { dispatch } from "../_shared/dispatch/main.ts";

serve(dispatch);
