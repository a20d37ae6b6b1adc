// Package network gives pods their network: a pinned network namespace
// and a CNI attachment through libcni and the standard plugins.
//
// Calls follow the CNI spec to the letter: the ADD result is kept and
// handed to CHECK and DEL, DEL is best effort and idempotent (a missing
// namespace is success), and calls on one machine are serialised by a
// flock on Config.LockFile.
//
// Open loads a conflist by name from Config.ConfDir; the "podrun" one is
// written there on first use (DefaultConflist). The loopback interface is
// brought up by the loopback plugin run as a network of its own, as CRI
// runtimes do. Attach refuses a hostPort that something on the host
// already holds, since portmap's DNAT would silently shadow it.
//
// Two plugin gaps are filled, each narrowly. DEL gets a prevResult even
// when libcni's cache has none (an ADD that failed half-way, a lost
// cache): the last ADD result, or the Attachment's. And when the
// namespace is gone, the masquerading rules the bridge plugin can then no
// longer find are removed by their pod-specific comment.
//
// The package is silent: plugin stderr goes to Config.Logger at debug
// level, errors are returned.
package network
