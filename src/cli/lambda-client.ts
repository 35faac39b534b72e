/** The one place the CLI builds an AWS SDK Lambda client for a Target. */
import { LambdaClient } from "@aws-sdk/client-lambda";
import type { Target } from "./target.js";

export function createLambdaClient(target: Target): LambdaClient {
  return new LambdaClient({ endpoint: target.endpoint, region: target.region, credentials: target.credentials, maxAttempts: 2 });
}
