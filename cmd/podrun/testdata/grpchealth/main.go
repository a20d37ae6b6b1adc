// Command grpchealth is a gRPC health server for the probe tests: it
// answers grpc.health.v1.Health/Check over cleartext HTTP/2 (prior
// knowledge, as gRPC clients speak it) on the port given, from the
// standard library alone. The service "" and "ok" are SERVING, "sick" is
// NOT_SERVING; any other is unknown (gRPC status 5, NOT_FOUND), as
// grpc-go's health server answers. Each check is one line on stdout.
//
// Usage: grpchealth PORT
package main

import (
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"os"
)

// Health statuses of grpc.health.v1.HealthCheckResponse.
const (
	serving    = 1
	notServing = 2
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: grpchealth PORT")
		os.Exit(2)
	}
	var protocols http.Protocols
	protocols.SetUnencryptedHTTP2(true)
	srv := &http.Server{Addr: ":" + os.Args[1], Handler: http.HandlerFunc(check), Protocols: &protocols}
	fmt.Println("serving on", srv.Addr)
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func check(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/grpc.health.v1.Health/Check" || r.ProtoMajor != 2 {
		http.Error(w, "not a gRPC health check", http.StatusNotFound)
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<10))
	service, ok := requestService(body)
	w.Header().Set("Content-Type", "application/grpc")
	w.Header().Set("Trailer", "Grpc-Status, Grpc-Message")
	status := map[string]int{"": serving, "ok": serving, "sick": notServing}[service]
	fmt.Printf("check %q: %d\n", service, status)
	switch {
	case !ok:
		w.Header().Set("Grpc-Status", "13") // INTERNAL
		w.Header().Set("Grpc-Message", "malformed request")
	case status == 0:
		w.Header().Set("Grpc-Status", "5") // NOT_FOUND
		w.Header().Set("Grpc-Message", "unknown service")
	default:
		w.Write([]byte{0, 0, 0, 0, 2, 0x08, byte(status)}) // one frame: field 1, varint
		w.Header().Set("Grpc-Status", "0")
	}
}

// requestService reads the service (field 1, a string) of the
// HealthCheckRequest in one uncompressed gRPC frame.
func requestService(frame []byte) (string, bool) {
	if len(frame) < 5 || frame[0] != 0 || int(binary.BigEndian.Uint32(frame[1:5])) != len(frame)-5 {
		return "", false
	}
	msg := frame[5:]
	if len(msg) == 0 {
		return "", true
	}
	if msg[0] != 0x0a {
		return "", false
	}
	n, k := binary.Uvarint(msg[1:])
	if k <= 0 || uint64(len(msg)-1-k) != n {
		return "", false
	}
	return string(msg[1+k:]), true
}
