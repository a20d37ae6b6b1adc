// Package runtime drives an OCI runtime (runc, crun) as a command-line
// program, the way containerd's go-runc does. It never imports libcontainer.
//
// Contract:
//
//   - A CLI value is one runtime binary with podrun's own --root, so podrun
//     never sees or touches containers that other tools made. Every call
//     passes --root; a CLI without Root refuses to run.
//   - Every invocation also passes --log FILE --log-format json, so the
//     runtime's own error messages are readable even when its stderr is the
//     container's stderr (create, exec). The last error-level message of the
//     invocation is put in Error.Message.
//   - Each verb has an options struct whose args method builds the argv
//     without running anything; the argv tables are the tests.
//   - Every child process is made by the CLI's Cmder, so tests can record
//     or fake it.
//   - A failed invocation returns *Error with the argv, exit status, stderr
//     and log message. errors.Is(err, ErrNotExist) reports that the runtime
//     said the container does not exist; teardown treats that as success
//     (see IgnoreNotExist).
//   - Create takes the container's stdio as *os.File only: the files are
//     handed to the runtime as they are, the runtime hands them on to the
//     container, and Create returns as soon as the runtime exits. An
//     io.Writer that is not a file would make os/exec copy through a pipe
//     whose write end the detached container keeps open, and Create would
//     never return.
//   - Only flags that runc and crun share are used, except where a field
//     says otherwise.
//   - Default is the runtime to use when none is named: podrun's own runc
//     at Bundled, which `make deps` builds at a pinned version, else runc
//     from $PATH. Version reads what a runtime says of itself (CachedVersion
//     remembers it while the binary stays the same file), and Floor says
//     whether that is older than the releases with the fixes podrun knows
//     of, naming the CVEs: callers warn, they do not refuse.
//
// The package is silent: it prints nothing and returns errors.
package runtime
