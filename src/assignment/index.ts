/**
 * assignment: execution environments per function configuration (idle/busy/draining), warm
 * reuse, cold starts through placement, idle reaping. Must not import: api, frontend, control, worker.
 */
export { EnvironmentTable, type EnvironmentEntry, type EnvironmentState } from "./table.js";
export { AssignmentService, NoCapacityError, ScalingThrottledError, type Lease, type WorkerFleet, type AssignmentOptions, type ProvisionedTarget } from "./service.js";
export { provisionedPlan, provisionedStatus, type ProvisionedPlan, type ProvisionedView, type ProvisionedStatus } from "./provisioned.js";
export { inScope, type AssignmentPort, type DrainScope, type ProvisionedFigures } from "./port.js";
