// Package crilog writes and reads container logs in the CRI log format,
// the files the kubelet reads for `kubectl logs`:
//
//	2016-10-06T00:17:09.669794202Z stdout F hello
//	<RFC 3339 time, UTC, nanoseconds> <stdout|stderr> <tag> <content>
//
// Contract:
//
//   - A Writer cuts its stream into lines. A line is written with tag F
//     (full) without its newline; a line longer than MaxLine bytes is cut
//     into chunks tagged P (partial), the last one F, as containerd does.
//     Data left without a newline when the Writer is closed is written as
//     P, also as containerd does, so reading gives back exactly the bytes
//     written. Content is kept as is, carriage returns included.
//   - Every log line is one Write to the underlying file, made under the
//     Log's mutex: the stdout and stderr Writers of one Log never
//     interleave within a line.
//   - Copy turns a log back into the container's output, joining P chunks
//     per stream, optionally with timestamps, one stream, a tail or a
//     start time. A malformed line is skipped and reported in Copy's
//     error after everything else is copied; nothing in a log makes the
//     reader panic (a fuzz test holds it to that).
//
// The package is silent: it prints nothing and returns errors.
package crilog
