/**
 * The release-management surface of the Lambda API, registered in one place: versions, aliases,
 * reserved and provisioned concurrency, tags. Paths carry each operation's own date prefix.
 */
import type { FunctionRegistry } from "../../control/index.js";
import type { Handler, RouteSpec } from "../http.js";
import type { Router } from "../router.js";
import { aliasRoutes } from "./aliases.js";
import { concurrencyRoutes, type ProvisionedStatusSource } from "./concurrency.js";
import { tagRoutes } from "./tags.js";
import { versionRoutes } from "./versions.js";

export function addReleaseRoutes(
  router: Router<RouteSpec>,
  small: (h: Handler) => RouteSpec,
  d: { registry: FunctionRegistry; region: string; provisioned: ProvisionedStatusSource },
): void {
  const v = versionRoutes(d);
  const a = aliasRoutes(d);
  const c = concurrencyRoutes(d);
  const t = tagRoutes(d);
  const fn = "/2015-03-31/functions/{fn}";
  router
    .add("POST", `${fn}/versions`, small(v.publishVersion))
    .add("GET", `${fn}/versions`, small(v.listVersions))
    .add("POST", `${fn}/aliases`, small(a.createAlias))
    .add("GET", `${fn}/aliases`, small(a.listAliases))
    .add("GET", `${fn}/aliases/{alias}`, small(a.getAlias))
    .add("PUT", `${fn}/aliases/{alias}`, small(a.updateAlias))
    .add("DELETE", `${fn}/aliases/{alias}`, small(a.deleteAlias))
    .add("PUT", "/2017-10-31/functions/{fn}/concurrency", small(c.putFunctionConcurrency))
    .add("DELETE", "/2017-10-31/functions/{fn}/concurrency", small(c.deleteFunctionConcurrency))
    .add("GET", "/2019-09-30/functions/{fn}/concurrency", small(c.getFunctionConcurrency))
    .add("PUT", "/2019-09-30/functions/{fn}/provisioned-concurrency", small(c.putProvisioned))
    .add("GET", "/2019-09-30/functions/{fn}/provisioned-concurrency", small(c.getOrListProvisioned))
    .add("DELETE", "/2019-09-30/functions/{fn}/provisioned-concurrency", small(c.deleteProvisioned))
    .add("POST", "/2017-03-31/tags/{arn}", small(t.tagResource))
    .add("GET", "/2017-03-31/tags/{arn}", small(t.listTags))
    .add("DELETE", "/2017-03-31/tags/{arn}", small(t.untagResource));
}
