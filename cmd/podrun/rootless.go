package main

import (
	"os"
	"strconv"

	"github.com/podrun/podrun/runner/host"
	"github.com/podrun/podrun/runner/portdriver"
)

// The per-user namespace holder names its slirp4netns API socket, and the
// host's net.ipv4.ip_unprivileged_port_start (which cannot be read from
// inside its network namespace), in these variables of every command it
// re-executes inside.
const (
	envRootlessAPI       = "PODRUN_ROOTLESS_API"
	envRootlessPortFloor = "PODRUN_ROOTLESS_PORT_FLOOR"
)

// portDriver is the rootless hostPort publisher: nil in the initial user
// namespace (root mode, unchanged) or when no API socket is named.
func portDriver() *portdriver.Slirp {
	sock := os.Getenv(envRootlessAPI)
	if sock == "" || !host.InUserNS() {
		return nil
	}
	floor, _ := strconv.Atoi(os.Getenv(envRootlessPortFloor))
	return &portdriver.Slirp{Socket: sock, PortFloor: floor}
}
