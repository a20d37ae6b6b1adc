// Package services keeps every Service's Endpoints and EndpointSlices in
// step with the pods it selects, with no controller running: whatever
// changes a pod's readiness or existence (its monitor, apply, delete, a
// workload's controller) or a Service calls Sync, which does the work of
// the endpoints and endpointslice controllers once and returns.
//
// Contract:
//
//   - Sync works from state on disk only: the Services in the objects
//     store, the pods with their status as Config.Pods reports them
//     (runner.List), and the Endpoints and slices it wrote before.
//   - It computes under one lock file, <run-root>/locks/services.lock,
//     held while it reads, computes, writes and tells the data plane,
//     never while it waits on anything else (it takes no pod lock), so
//     that the last writer's view is the one written and rendered.
//   - It writes only the objects whose content changed (objects.Put
//     leaves an unchanged file alone: resolvers and the proxy read them),
//     and deletes the controllers' objects of Services that are gone.
//     The Endpoints of a Service without a selector are the user's and
//     are never touched: they are mirrored into slices (managed by the
//     endpointslicemirroring controller), as the API server's
//     controllers do, so that readers of slices see them.
//   - When something changed (or a Service did: ServicesChanged) it
//     calls Config.DataPlane, if any, with every namespace's Services and
//     slices: the proxy renders all rules at once.
//   - With no Service and no slice stored, Sync reads two directories
//     and returns: it takes no lock and writes nothing. ServicesChanged
//     always syncs, so that the data plane forgets the last Service.
//   - A selected pod that lacks a Service port's named targetPort is left
//     out for that port, with a Warning event FailedToFindPort on the
//     Service, kept in <run-root>/services/events/<namespace>/<name>.json
//     while it lasts (Events reads them).
//
// The package prints nothing; it logs to Config.Log.
package services
