package image

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"syscall"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestUnreachable(t *testing.T) {
	get := func(err error) error {
		return fmt.Errorf("pulling registry.invalid/app:latest: %w", &url.Error{Op: "Get", URL: "https://registry.invalid/v2/", Err: err})
	}
	dial := func(errno syscall.Errno) error {
		return &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", errno)}
	}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"no such host", get(&net.DNSError{Err: "no such host", Name: "registry.invalid", IsNotFound: true}), true},
		{"connection refused", get(dial(syscall.ECONNREFUSED)), true},
		{"no route", get(dial(syscall.EHOSTUNREACH)), true},
		{"network unreachable", get(dial(syscall.ENETUNREACH)), true},
		{"bare errno", fmt.Errorf("pulling: %w", syscall.ECONNREFUSED), true},
		{"timeout", get(timeoutErr{}), true},
		{"cancelled", get(context.Canceled), false},
		{"registry answered", fmt.Errorf("pulling: %w", &transport.Error{StatusCode: 404}), false},
		{"other", errors.New("unsupported manifest type"), false},
		{"nil", nil, false},
	}
	for _, tt := range tests {
		if got := Unreachable(tt.err); got != tt.want {
			t.Errorf("%s: Unreachable(%v) = %v, want %v", tt.name, tt.err, got, tt.want)
		}
	}
}
