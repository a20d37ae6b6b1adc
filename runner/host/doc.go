// Package host reads the facts of this machine that pods depend on:
// what translate needs as values (Facts: name, resolver and hosts files,
// cgroup version, address, allocatable resources, swap accounting, the
// capabilities podrun may hand on; Devices for privileged pods), and
// what the infra container needs to run podrun as its pause process
// (PauseLibs), and whether podrun runs in a user namespace that is not
// the initial one (InUserNS, read from /proc/self/uid_map, the one test
// of rootless below cmd; UserNSFacts for translate). It reads files
// under /proc, /sys and /etc and asks the dynamic loader; it changes
// nothing and prints nothing.
package host
