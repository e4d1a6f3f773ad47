// A protobuf-es Registry of every message tug's API protos define (each kind, its list, and
// the meta/v1 types), for google.protobuf.Any: pack an object with anyPack (@bufbuild/protobuf/wkt), unpack it with
// anyUnpack(any, apiRegistry), and give { registry: apiRegistry } to toJson/fromJson of
// messages that hold an Any.

import { createRegistry, type Registry } from "@bufbuild/protobuf";
import { file_tug_apps_v1_controller_revision } from "../gen/tug/apps/v1/controller_revision_pb.js";
import { file_tug_apps_v1_daemon_set } from "../gen/tug/apps/v1/daemon_set_pb.js";
import { file_tug_apps_v1_deployment } from "../gen/tug/apps/v1/deployment_pb.js";
import { file_tug_apps_v1_replica_set } from "../gen/tug/apps/v1/replica_set_pb.js";
import { file_tug_apps_v1_stateful_set } from "../gen/tug/apps/v1/stateful_set_pb.js";
import { file_tug_batch_v1_cron_job } from "../gen/tug/batch/v1/cron_job_pb.js";
import { file_tug_batch_v1_job } from "../gen/tug/batch/v1/job_pb.js";
import { file_tug_coordination_v1_lease } from "../gen/tug/coordination/v1/lease_pb.js";
import { file_tug_core_v1_binding } from "../gen/tug/core/v1/binding_pb.js";
import { file_tug_core_v1_config } from "../gen/tug/core/v1/config_pb.js";
import { file_tug_core_v1_event } from "../gen/tug/core/v1/event_pb.js";
import { file_tug_core_v1_namespace } from "../gen/tug/core/v1/namespace_pb.js";
import { file_tug_core_v1_node } from "../gen/tug/core/v1/node_pb.js";
import { file_tug_core_v1_persistent_volume } from "../gen/tug/core/v1/persistent_volume_pb.js";
import { file_tug_core_v1_pod } from "../gen/tug/core/v1/pod_pb.js";
import { file_tug_core_v1_resource_quota } from "../gen/tug/core/v1/resource_quota_pb.js";
import { file_tug_core_v1_service_account } from "../gen/tug/core/v1/service_account_pb.js";
import { file_tug_core_v1_service } from "../gen/tug/core/v1/service_pb.js";
import { file_tug_meta_v1_meta } from "../gen/tug/meta/v1/meta_pb.js";
import { file_tug_networking_v1_network_policy } from "../gen/tug/networking/v1/network_policy_pb.js";
import { file_tug_policy_v1_policy } from "../gen/tug/policy/v1/policy_pb.js";
import { file_tug_rbac_v1_rbac } from "../gen/tug/rbac/v1/rbac_pb.js";
import { file_tug_storage_v1_storage_class } from "../gen/tug/storage/v1/storage_class_pb.js";

/** Every message of proto/tug/{meta,core,apps,batch,...}/v1, with the files they import. */
export const apiRegistry: Registry = createRegistry(
  file_tug_meta_v1_meta,
  file_tug_core_v1_binding,
  file_tug_core_v1_config,
  file_tug_core_v1_event,
  file_tug_core_v1_namespace,
  file_tug_core_v1_node,
  file_tug_core_v1_persistent_volume,
  file_tug_core_v1_pod,
  file_tug_core_v1_resource_quota,
  file_tug_core_v1_service_account,
  file_tug_core_v1_service,
  file_tug_apps_v1_controller_revision,
  file_tug_apps_v1_daemon_set,
  file_tug_apps_v1_deployment,
  file_tug_apps_v1_replica_set,
  file_tug_apps_v1_stateful_set,
  file_tug_batch_v1_cron_job,
  file_tug_batch_v1_job,
  file_tug_coordination_v1_lease,
  file_tug_networking_v1_network_policy,
  file_tug_policy_v1_policy,
  file_tug_rbac_v1_rbac,
  file_tug_storage_v1_storage_class,
);
