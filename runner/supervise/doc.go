// Package supervise runs workload controllers without a daemon: one
// supervisor process per workload object (a Deployment, a Job...), in
// the model of the per-pod monitor (runner/monitor).
//
// Contract:
//
//   - A supervisor is podrun re-executed (the runner's SuperviseCommand),
//     in a session of its own, by the command that applied the workload or
//     by the next command that found it gone (Supervisors.Ensure,
//     EnsureAll). It is a descendant of the user's shell, so its audit
//     loginuid, and that of every pod it starts, is the user's; it
//     outlives the command that started it.
//   - A workload's state is one directory, <Store.Dir>/<kind>/<namespace>_<name>/:
//     object.json, the object as applied (written by apply under the
//     workload's lock, atomically); state.json, the Record (the
//     supervisor's identity as pid and start time, its command line, the
//     status and events its controller recorded); supervisor.log; and the
//     lock. Every write is atomic and made under the lock; reads need none.
//   - The lock is per workload and held only while acting (applying,
//     recording a step's status, starting or stopping the supervisor,
//     deleting), never while waiting: there is no global lock.
//   - Run is the supervisor's life: a step reads the object and the pods
//     that name the workload's uid in an ownerReference (from the pods'
//     state on disk, through World), calls the Controller, which acts
//     through Env (the runner's own apply and delete paths), and records
//     the status and events it set. The Env of a step is also an
//     OrphanEnv: the namespace's pods no controller owns, for a controller
//     that adopts by selector (the DaemonSet's). Then it sleeps until inotify says that
//     a pod directory was made or removed, that an owned pod's state file
//     or the workload's object.json was replaced, or until the
//     controller's requeue time or the safety resync (DefaultResync).
//     Failed steps are retried with back-off up to 30 s.
//   - A supervisor acts only while the Record names it (pid and start
//     time) and no delete has begun; otherwise it exits. SIGTERM ends it
//     after its step (cancelled after StepGrace). Killed, it loses
//     nothing: everything it knows is on disk, and the next supervisor
//     starts over from there.
//   - Ensure starts a supervisor unless the recorded one is alive
//     (state.Process.Alive: a reused pid is not taken for it), warning once
//     per loss; EnsureAll does so for every workload, cheaply when all are
//     alive. Stop marks the workload as being deleted, so that none is
//     started again, then SIGTERM, a bounded wait, SIGKILL.
//
// The package knows no Kubernetes kind: controllers are given to it. It
// prints nothing; it logs to the injected logger.
package supervise
