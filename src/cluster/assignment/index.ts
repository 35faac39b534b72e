/**
 * cluster/assignment: replicated assignment. Functions are hashed to partitions; each partition
 * has one leader (KV `kiln-leaders`, CAS + expiry) running the in-memory AssignmentService and
 * journaling every table change to stream KILN_ASSIGN; followers replay the journal and take
 * over with the full table. Frontends reach leaders through RemoteAssignment (AssignmentPort).
 * Must not import: api, frontend, control, worker.
 */
export { functionKeyOf, partitionOf, partitionOfConfig, partitionsOfScope } from "./partition.js";
export { DEFAULT_LEASE_MS, decide, parseLeaderRecord, type Holding, type LeaderRecord, type LeadershipAction, type SeenEntry } from "./election.js";
export { ASSIGN_STREAM, type JournaledTarget } from "./journal.js";
export { startAssignmentNode, readPartitionLeaders, openLeadersBucket, LEADERS_BUCKET, ENV_DEAD_SUBJECT, type AssignmentNode, type AssignmentNodeOptions } from "./node.js";
export { RemoteAssignment, AssignmentUnavailableError, type RemoteAssignmentOptions } from "./remote.js";
export { NotLeaderError, rpcSubject } from "./protocol.js";
