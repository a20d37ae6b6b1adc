// Package leakcheck makes integration tests prove they clean up. Take a
// Snapshot before the test sets anything up, call Check after it tore it
// all down: the test fails with a list of what was left behind.
//
// What counts as a leak, and why it is that narrow: go test runs packages
// in parallel, so only what is provably this test's is reported.
//
//   - mounts: any mount whose mount point is under one of Options.Roots and
//     that was not there at Take;
//   - network namespaces: a pinned one (nsfs mount) under Roots that was
//     not there at Take, and a new entry in /run/netns whose name contains
//     a marker;
//   - network interfaces: any interface whose master is Options.Bridge,
//     and any interface new since Take whose name contains a marker (put a
//     test's bridge name in Markers to check the bridge itself is gone);
//   - iptables rules and chains: lines of iptables-save (tables nat and
//     filter, and ip6tables-save when present) new since Take that contain
//     a marker, and likewise policy routing rules and routes (ip rule,
//     ip route show table all);
//   - conntrack: UDP flows to one of Options.VirtualRanges (a service
//     range), which a service proxy must remove as their endpoints go;
//   - runc containers still listed under Options.RuncRoot, if set;
//   - processes other than the test's own whose command line contains a
//     marker, or whose root or working directory is under Roots.
//
// Some teardown finishes in the kernel after the call that asked for it
// returns (a namespace's interfaces go when its last reference does), so
// Check looks again for a few seconds before it reports.
//
// leakcheck needs root, as the tests that use it do.
package leakcheck
