// Command mkimage writes podrun's offline demo image, built from the host's
// busybox-static binary, as a docker-archive or OCI archive tarball:
//
//	mkimage -busybox /usr/bin/busybox -o bin/busybox-demo.tar [-format docker|oci]
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/podrun/podrun/internal/demoimage"
)

func main() {
	busybox := flag.String("busybox", "/usr/bin/busybox", "static busybox binary to build the image from")
	out := flag.String("o", "bin/busybox-demo.tar", "archive to write")
	format := flag.String("format", string(demoimage.Docker), "archive format: docker or oci")
	flag.Parse()
	if err := run(*busybox, *out, demoimage.Format(*format)); err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
}

func run(busybox, out string, format demoimage.Format) error {
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	return demoimage.WriteFormat(out, busybox, format)
}
