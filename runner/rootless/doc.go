// Package rootless lets an ordinary user run podrun: it says where the
// user's directories are (Defaults), whether the machine lets the user
// run pods and what to do when it does not (Check, Preflight), and keeps
// the per-user namespace holder that every rootless command enters.
//
// The holder is podrun itself, re-executed as a hidden command
// (HolderCommand) in a new user, mount and network namespace. Its user
// namespace maps container root to the user and ids 1..N to the user's
// whole subordinate range (newuidmap and newgidmap from /etc/subuid and
// /etc/subgid); slirp4netns, run by the user outside, is its network
// namespace's uplink, with the host's loopback off. The holder does
// nothing but keep those namespaces; slirp4netns exits with it (its
// --exit-fd is a pipe only the holder holds). Its record (pid and start
// time, namespace inodes, slirp4netns's) lives in the run root and is
// checked against /proc before use, so a crashed holder is found again
// and replaced. Release stops the holder once no pod is left in the run
// root and no other process lives in its namespaces: no daemon stays
// behind.
//
// A rootless command enters the holder's namespaces through util-linux
// nsenter, re-executing podrun with EnvUser set (a static Go binary
// cannot setns into a user namespace once its threads run). Inside, it
// is uid 0 of the user namespace, with the capabilities that grants
// over the holder's namespaces and none over the host; runc and the
// monitors it starts are descendants of the user's own command, so the
// audit loginuid stays the user's.
//
// Nothing here prints; Check results are values for cmd to show.
package rootless
