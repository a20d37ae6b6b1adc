package proxy

import (
	"bufio"
	"fmt"
	"net"
	"testing"
	"time"
)

// benchLab is two pods, pod0 behind a ClusterIP Service, pod1 the client.
func benchLab(b *testing.B) (*lab, string, string) {
	l := newLab(b, 2)
	p := l.proxy(b, Config{})
	svc, sl := l.web("web", "10.96.0.20", "0")
	p.sync(b, svcSet{}.with(svc, sl))
	return l, "10.96.0.20:80", l.ips[0].String() + ":8080"
}

// connect opens a TCP connection to addr, reads the server's line and
// closes: one connect and one round trip.
func connect(addr string) error {
	c, err := net.DialTimeout("tcp4", addr, 3*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := bufio.NewReader(c).ReadString('\n'); err != nil {
		return fmt.Errorf("reading from %s: %w", addr, err)
	}
	return nil
}

func benchConnect(b *testing.B, useVIP bool) {
	l, vip, pod := benchLab(b)
	addr := pod
	if useVIP {
		addr = vip
	}
	err := in(l.pods[1], func() error {
		b.ResetTimer()
		for range b.N {
			if err := connect(addr); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkConnectClusterIP: pod1 connects to pod0 through its Service.
func BenchmarkConnectClusterIP(b *testing.B) { benchConnect(b, true) }

// BenchmarkConnectPodIP: pod1 connects to pod0's address directly.
func BenchmarkConnectPodIP(b *testing.B) { benchConnect(b, false) }

// BenchmarkConnectRatio alternates both in one run and reports the cost of
// a connection through a ClusterIP as a multiple of a direct one.
func BenchmarkConnectRatio(b *testing.B) {
	l, vip, pod := benchLab(b)
	var through, direct time.Duration
	err := in(l.pods[1], func() error {
		b.ResetTimer()
		for range b.N {
			for _, c := range []struct {
				addr string
				sum  *time.Duration
			}{{vip, &through}, {pod, &direct}} {
				start := time.Now()
				if err := connect(c.addr); err != nil {
					return err
				}
				*c.sum += time.Since(start)
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(through)/float64(direct), "clusterip/podip")
}
