//! The permission matrix: which callers may call which method. Written once, here; the auth
//! layer enforces it, `docs/security.md` prints it, and the tests walk all of it.
//!
//! Roles are checked per method (the layer needs no message for that). Queue scopes are
//! checked by the services, which know the queue a message touches.

use corvo_core::access::Role;

use crate::principal::{Identity, Principal};

/// Who may call a method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone, without a credential: probes and reflection (a Kubernetes gRPC probe cannot
    /// send metadata, and a probe must never be refused under load).
    Open,
    /// A caller with one of these roles.
    Roles(&'static [Role]),
    /// Membership changes and snapshots: the cluster secret or an admin key (or, on a node
    /// without a cluster secret that runs open, anyone).
    ClusterAdmin,
}

const ALL: &[Role] = &[Role::Admin, Role::Operator, Role::Worker, Role::Readonly];
const WORK: &[Role] = &[Role::Admin, Role::Operator, Role::Worker];
const MANAGE: &[Role] = &[Role::Admin, Role::Operator];
const OBSERVE: &[Role] = &[Role::Admin, Role::Operator, Role::Readonly];
const ADMIN: &[Role] = &[Role::Admin];

/// Every method and HTTP route of the client port with its access. A method missing here
/// needs an authenticated caller of any role (and a test fails until it is listed).
pub const MATRIX: &[(&str, Access)] = &[
    ("/corvo.v1.WorkerService/Enqueue", Access::Roles(WORK)),
    ("/corvo.v1.WorkerService/Fetch", Access::Roles(WORK)),
    ("/corvo.v1.WorkerService/FetchBatch", Access::Roles(WORK)),
    ("/corvo.v1.WorkerService/Ack", Access::Roles(WORK)),
    ("/corvo.v1.WorkerService/AckBatch", Access::Roles(WORK)),
    (
        "/corvo.v1.WorkerService/StreamLifecycle",
        Access::Roles(WORK),
    ),
    ("/corvo.v1.WorkerService/Fail", Access::Roles(WORK)),
    ("/corvo.v1.WorkerService/Heartbeat", Access::Roles(WORK)),
    ("/corvo.v1.WorkerService/Subscribe", Access::Roles(ALL)),
    ("/corvo.v1.WorkerService/GetServerInfo", Access::Roles(ALL)),
    ("/corvo.v1.JobService/GetJob", Access::Roles(ALL)),
    ("/corvo.v1.JobService/ListJobs", Access::Roles(OBSERVE)),
    ("/corvo.v1.JobService/CancelJob", Access::Roles(MANAGE)),
    ("/corvo.v1.JobService/RetryJob", Access::Roles(MANAGE)),
    ("/corvo.v1.JobService/DeleteJob", Access::Roles(MANAGE)),
    ("/corvo.v1.JobService/BulkJobs", Access::Roles(MANAGE)),
    ("/corvo.v1.JobService/GetOperation", Access::Roles(OBSERVE)),
    (
        "/corvo.v1.JobService/ListOperations",
        Access::Roles(OBSERVE),
    ),
    ("/corvo.v1.QueueService/ListQueues", Access::Roles(OBSERVE)),
    ("/corvo.v1.QueueService/GetQueue", Access::Roles(OBSERVE)),
    ("/corvo.v1.QueueService/PauseQueue", Access::Roles(MANAGE)),
    ("/corvo.v1.QueueService/ResumeQueue", Access::Roles(MANAGE)),
    ("/corvo.v1.QueueService/DrainQueue", Access::Roles(MANAGE)),
    ("/corvo.v1.QueueService/ClearQueue", Access::Roles(MANAGE)),
    ("/corvo.v1.QueueService/DestroyQueue", Access::Roles(MANAGE)),
    (
        "/corvo.v1.QueueService/SetQueueLimits",
        Access::Roles(MANAGE),
    ),
    (
        "/corvo.v1.QueueService/SetQueueRetention",
        Access::Roles(MANAGE),
    ),
    ("/corvo.v1.QueueService/ListWorkers", Access::Roles(OBSERVE)),
    (
        "/corvo.v1.ClusterService/GetNodeStatus",
        Access::Roles(OBSERVE),
    ),
    (
        "/corvo.v1.ClusterService/GetClusterStatus",
        Access::Roles(OBSERVE),
    ),
    ("/corvo.v1.ClusterService/Join", Access::ClusterAdmin),
    ("/corvo.v1.ClusterService/RemoveNode", Access::ClusterAdmin),
    (
        "/corvo.v1.ClusterService/TransferLeader",
        Access::ClusterAdmin,
    ),
    (
        "/corvo.v1.ClusterService/GetStateDigest",
        Access::Roles(OBSERVE),
    ),
    (
        "/corvo.v1.ClusterService/CreateSnapshot",
        Access::ClusterAdmin,
    ),
    (
        "/corvo.v1.ClusterService/ListSnapshots",
        Access::Roles(OBSERVE),
    ),
    ("/corvo.v1.KeyService/CreateKey", Access::Roles(ADMIN)),
    ("/corvo.v1.KeyService/ListKeys", Access::Roles(ADMIN)),
    ("/corvo.v1.KeyService/GetKey", Access::Roles(ADMIN)),
    ("/corvo.v1.KeyService/RevokeKey", Access::Roles(ADMIN)),
    ("/corvo.v1.KeyService/RotateKey", Access::Roles(ADMIN)),
    ("/healthz", Access::Open),
    ("/readyz", Access::Open),
    ("/metrics", Access::Open),
    ("/api/v1/cluster/join", Access::ClusterAdmin),
];

/// Services whose every method is open.
const OPEN_SERVICES: [&str; 3] = [
    "/grpc.health.v1.Health/",
    "/grpc.reflection.v1.ServerReflection/",
    "/grpc.reflection.v1alpha.ServerReflection/",
];

/// The access of `path`. `/metrics` needs an observer's key with `--metrics-auth`.
pub fn access(path: &str, metrics_auth: bool) -> Access {
    if OPEN_SERVICES.iter().any(|s| path.starts_with(s)) {
        return Access::Open;
    }
    if path == "/metrics" && metrics_auth {
        return Access::Roles(OBSERVE);
    }
    MATRIX
        .iter()
        .find(|(p, _)| *p == path)
        .map_or(Access::Roles(ALL), |(_, a)| *a)
}

/// Whether `principal` may call a method of `access`. `node_has_secret`: a node without a
/// cluster secret runs alone, and its open mode lets anyone take snapshots.
pub fn allows(access: Access, principal: &Principal, node_has_secret: bool) -> bool {
    match access {
        Access::Open => true,
        Access::Roles(roles) => roles.contains(&principal.role),
        Access::ClusterAdmin => match principal.identity {
            Identity::Cluster => true,
            Identity::Key { .. } => principal.role == Role::Admin,
            Identity::Anonymous => !node_has_secret,
        },
    }
}

/// Who may call, in words (for PERMISSION_DENIED messages and the docs).
pub fn describe(access: Access) -> String {
    match access {
        Access::Open => "anyone".into(),
        Access::Roles(roles) => {
            let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            format!("keys with role {}", names.join(", "))
        }
        Access::ClusterAdmin => "the cluster secret or an admin key".into(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use prost::Message;

    use super::*;

    /// Every method the client port serves (from the descriptor sets it registers).
    fn served_methods() -> Vec<String> {
        let set = prost_types::FileDescriptorSet::decode(corvo_sdk::FILE_DESCRIPTOR_SET)
            .expect("descriptor set");
        let mut methods = Vec::new();
        for file in set.file {
            let package = file.package().to_owned();
            for service in file.service {
                let name = format!("{package}.{}", service.name());
                if name == "corvo.v1.RaftPeerService" {
                    continue; // the peer port's, not the client port's
                }
                for m in service.method {
                    methods.push(format!("/{name}/{}", m.name()));
                }
            }
        }
        methods
    }

    #[test]
    fn every_served_method_is_in_the_matrix_once() {
        let listed: HashSet<&str> = MATRIX.iter().map(|(p, _)| *p).collect();
        assert_eq!(listed.len(), MATRIX.len(), "a path is listed twice");
        for m in served_methods() {
            assert!(listed.contains(m.as_str()), "{m} is not in the matrix");
        }
    }

    #[test]
    fn the_matrix_gives_each_role_what_docs_security_md_says() {
        let key = |role| Principal {
            identity: Identity::Key {
                id: "k".into(),
                name: "n".into(),
            },
            role,
            ..Principal::anonymous()
        };
        let may = |role, path: &str| allows(access(path, false), &key(role), true);
        // Workers work; they do not manage jobs, list them or see the cluster.
        assert!(may(Role::Worker, "/corvo.v1.WorkerService/StreamLifecycle"));
        assert!(may(Role::Worker, "/corvo.v1.JobService/GetJob"));
        assert!(!may(Role::Worker, "/corvo.v1.JobService/DeleteJob"));
        assert!(!may(Role::Worker, "/corvo.v1.JobService/ListJobs"));
        assert!(!may(Role::Worker, "/corvo.v1.ClusterService/GetNodeStatus"));
        // Readonly reads.
        assert!(may(Role::Readonly, "/corvo.v1.JobService/ListJobs"));
        assert!(may(Role::Readonly, "/corvo.v1.WorkerService/Subscribe"));
        assert!(!may(Role::Readonly, "/corvo.v1.WorkerService/Enqueue"));
        assert!(!may(Role::Readonly, "/corvo.v1.JobService/CancelJob"));
        // Operators run queues and jobs, not keys or the membership.
        assert!(may(Role::Operator, "/corvo.v1.JobService/CancelJob"));
        assert!(!may(Role::Operator, "/corvo.v1.KeyService/CreateKey"));
        assert!(!may(Role::Operator, "/corvo.v1.ClusterService/RemoveNode"));
        // Admins do everything.
        for (path, _) in MATRIX {
            assert!(may(Role::Admin, path), "{path}");
        }
        // Probes are open; unknown paths need some key.
        assert_eq!(access("/grpc.health.v1.Health/Check", false), Access::Open);
        assert_eq!(access("/metrics", false), Access::Open);
        assert_eq!(access("/metrics", true), Access::Roles(OBSERVE));
        assert_eq!(access("/corvo.v1.Nope/Nope", false), Access::Roles(ALL));
    }

    #[test]
    fn membership_changes_need_the_secret_or_an_admin_key() {
        let anonymous = Principal::anonymous();
        assert!(!allows(Access::ClusterAdmin, &anonymous, true));
        assert!(allows(Access::ClusterAdmin, &anonymous, false));
        assert!(allows(Access::ClusterAdmin, &Principal::cluster(), true));
    }
}
