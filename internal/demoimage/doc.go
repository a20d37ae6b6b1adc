// Package demoimage builds podrun's offline demo image from a busybox
// binary on the host (Debian's busybox-static): one layer holding
// /bin/busybox, a symlink for every applet at the path `busybox
// --list-full` gives, /etc/passwd and /etc/group (root and nobody),
// /tmp (1777) and /www/index.html. Nothing is downloaded.
//
// The result is reproducible: fixed times, owners and entry order, so the
// same busybox binary always gives the same image digest. It writes
// docker-archive tarballs (as `docker save` does) and OCI archives, tagged
// Ref. The package prints nothing.
package demoimage
