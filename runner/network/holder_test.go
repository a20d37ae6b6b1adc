package network

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
)

// TestCheckPortFree: a port this test listens on (on 127.0.0.1) cannot be
// published on every address, and the error names this process; once
// closed it is free.
func TestCheckPortFree(t *testing.T) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := int32(l.Addr().(*net.TCPAddr).Port)
	err = CheckPortFree(port, "TCP")
	want := fmt.Sprintf("%d/TCP is held by pid %d (", port, os.Getpid())
	if !errors.Is(err, ErrPortInUse) || !strings.Contains(err.Error(), want) {
		t.Errorf("CheckPortFree(%d) = %v, want ErrPortInUse naming %q", port, err, want)
	}
	l.Close()
	if err := CheckPortFree(port, "TCP"); err != nil {
		t.Errorf("closed port: %v", err)
	}
	if got := PortHolder(port, "udp"); got != "" {
		t.Errorf("PortHolder of a UDP port nobody holds = %q", got)
	}
}
