// Package controllers holds the decisions of Kubernetes' workload
// controllers as pure functions, one call being one sync of the
// kube-controller-manager's controller for one object:
//
//	ReplicaSet(rs, pods, now, rand)              ReplicaSetResult
//	Deployment(d, replicaSets, pods, now)        DeploymentResult
//	Job(job, pods, now, rand)                    JobResult
//	StatefulSet(set, currentTemplate, pods, claims, now) StatefulSetResult
//	CronJob(cronJob, jobs, now, zone)            CronJobResult
//	DaemonSet(ds, node, pods, now, rand)         DaemonSetResult
//
// and kubectl's rollout verbs on the object: Rollback, Restart, History,
// JobFromCronJob.
//
// A supervisor (one per workload) drives them in a loop:
//
//  1. observe: the workload as stored, the objects it owns (by
//     ownerReferences, never by name), and each owned pod as a Pod:
//     its object with phase and container statuses, plus what the runner
//     knows of readiness (since when), scheduling, deletion in progress
//     and when it finished. Finished pods are passed too, and a Job's
//     are kept while the Job is: they are what it counts.
//  2. decide: call the function with the time now and, where pods get
//     random names, a source of randomness.
//  3. act: create the objects in Create (claims before pods), delete
//     those named in Delete, store Update and the returned object with
//     its status.
//  4. wait until a pod it owns changes or RequeueAt comes, whichever is
//     first, and go round again.
//
// Each call does one step, as one sync does: a rolling update is many
// calls, each seeing what the last did, and a pod deleted or created in
// one call is seen in the next. Nothing is remembered between calls
// except what the supervisor stores (statuses, revision annotations,
// a StatefulSet's current template), so a supervisor killed and started
// again carries on. The Deployment counts its ReplicaSets' statuses from
// the pods itself, so the supervisor calls Deployment, carries it out,
// then ReplicaSet for each ReplicaSet.
//
// Objects are expected as the API server stores them, defaults applied
// (strategies, revisionHistoryLimit 10, progressDeadlineSeconds 600,
// parallelism 1, a StatefulSet's partition 0, ...). Where a default is
// missing, replicas count as 1, maxSurge and maxUnavailable as 25%, a
// Job's backoffLimit as 6; a missing revisionHistoryLimit keeps every
// ReplicaSet and a missing progressDeadlineSeconds sets no Progressing
// condition, as the fields' absence means to the controllers.
//
// Names are the API server's and the controllers': generateName suffixes
// of five characters from apimachinery's alphabet, pod-template-hash,
// `<deployment>-<hash>`, `<sts>-<ordinal>`, `<job>-<index>-<suffix>`,
// `<cronjob>-<minutes since the epoch>`. Every object created carries a
// controller ownerReference with blockOwnerDeletion.
//
// The package is pure: no os, os/exec, syscall, net, math/rand nor
// time.Now, and time zones arrive through a function. A test lists its
// imports and fails on any that would let it touch the machine.
package controllers
