// Package translate is pure: it turns one validated, defaulted pod, the
// configs of its images and a few facts about the host into OCI runtime
// specs, one for the pod's infra container and one per init and app
// container, plus the files, mounts and port mappings the runner must
// prepare.
//
// Nothing in this package touches the file system, runs a program, reads
// the clock or the environment: every impure fact arrives as an Input
// field, so every rule is testable with tables and golden files. A test
// checks its imports.
package translate
