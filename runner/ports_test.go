package runner

import (
	"testing"

	"github.com/podrun/podrun/translate"
)

func TestClash(t *testing.T) {
	port := func(hostPort int32, proto, ip string) translate.Port {
		return translate.Port{HostPort: hostPort, ContainerPort: 80, Protocol: proto, HostIP: ip}
	}
	tests := []struct {
		name string
		a, b translate.Port
		want bool
	}{
		{"same port, every address", port(8080, "tcp", ""), port(8080, "tcp", ""), true},
		{"every address against one", port(8080, "tcp", ""), port(8080, "tcp", "127.0.0.1"), true},
		{"one address against every", port(8080, "tcp", "127.0.0.1"), port(8080, "tcp", ""), true},
		{"0.0.0.0 against one", port(8080, "tcp", "0.0.0.0"), port(8080, "tcp", "192.0.2.1"), true},
		{"one against 0.0.0.0", port(8080, "tcp", "192.0.2.1"), port(8080, "tcp", "0.0.0.0"), true},
		{":: against one", port(8080, "tcp", "::"), port(8080, "tcp", "192.0.2.1"), true},
		{"0.0.0.0 against empty", port(8080, "tcp", "0.0.0.0"), port(8080, "tcp", ""), true},
		{"same specific address", port(8080, "tcp", "192.0.2.1"), port(8080, "tcp", "192.0.2.1"), true},
		{"different specific addresses", port(8080, "tcp", "192.0.2.1"), port(8080, "tcp", "127.0.0.1"), false},
		{"different ports", port(8080, "tcp", ""), port(8081, "tcp", ""), false},
		{"tcp and udp", port(53, "tcp", ""), port(53, "udp", ""), false},
		{"udp and sctp", port(5000, "udp", "0.0.0.0"), port(5000, "sctp", "0.0.0.0"), false},
		{"same port, udp", port(53, "udp", ""), port(53, "udp", "10.0.0.1"), true},
		{"different container ports do not matter", translate.Port{HostPort: 9000, ContainerPort: 1, Protocol: "tcp"},
			translate.Port{HostPort: 9000, ContainerPort: 2, Protocol: "tcp"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := clash(tt.a, tt.b); got != tt.want {
				t.Errorf("clash(%+v, %+v) = %v, want %v", tt.a, tt.b, got, tt.want)
			}
		})
	}
}
