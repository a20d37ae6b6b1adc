// Package state keeps podrun's records on disk, so that separate podrun
// invocations and the per-pod monitor agree on what exists.
//
// Contract:
//
//   - Each pod has one directory, <Store.Dir>/<namespace>_<name>/, holding
//     its record as JSON in state.json and a lock file. It is reached only
//     through a Key, whose namespace is a DNS label and name a DNS subdomain
//     as the API server checks them: "_" cannot be part of either, and no
//     Key names a path outside the store. Removal works beneath the store
//     (os.Root), so not even a bug can remove anything outside it.
//   - Files are written atomically (WriteFile: temp file in the same
//     directory, fsync, rename, fsync of the directory): a reader sees the
//     old record or the new one, never half of one. Reading needs no lock.
//   - Whoever changes a pod holds its lock (flock, LOCK_EX) for the whole
//     read-modify-write (PodDir.Update). The kernel drops the lock when
//     its holder dies, so a killed command never leaves a pod locked.
//   - A process is recorded with its start time (Process). A recorded pid
//     is not liveness: Alive and Signal ask the kernel, and Signal refuses
//     to signal a pid that now belongs to another process.
//   - A record says how far its pod has come (Stage): apply writes each
//     stage as its step completes (created, waiting, network, bundles,
//     monitor), the monitor writes running as it reports, delete writes
//     stopping before it stops anything.
//     A record written before stages were kept has none, and is read as
//     before.
//   - The pod's sandbox is recorded with its first stage, as translate
//     planned it: NetNS, Ports and Pin. The runner and the monitor read
//     them from the record; nothing derives them from the manifest again.
//   - The package does not import Kubernetes types: the manifest and the
//     CNI result are kept as raw JSON.
//
// The package is silent: it prints nothing and returns errors.
package state
