// Command netecho is the Service tests' network tool, built static and
// given to busybox pods by a hostPath volume. Busybox has no UDP client or
// server and no way to time many connections, so:
//
//	netecho udp-serve PORT      answer every datagram with "HOSTNAME: PAYLOAD"
//	netecho udp ADDR:PORT MSG   send MSG, print the answer (1 s timeout, 3 tries)
//	netecho udp-loop ADDR:PORT MSG
//	                            from one socket (one conntrack entry), send
//	                            MSG every 200 ms forever, printing each
//	                            answer or "timeout"
//	netecho get URL N           GET URL N times (2 s timeout each), printing
//	                            each body's first line, or "FAILED: error"
//	                            (Go's own resolver: busybox's static wget
//	                            crashes in Debian's build)
//	netecho connect ADDR:PORT N connect N times, each time reading until EOF,
//	                            and print the mean time of one, in microseconds
//	netecho lookup NAME N       resolve NAME N times through /etc/resolv.conf
//	                            (Go's own resolver), print the mean in microseconds
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "netecho:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) < 2 {
		return errors.New("usage: netecho udp-serve PORT | udp ADDR MSG | connect ADDR N | lookup NAME N")
	}
	switch args[0] {
	case "udp-serve":
		return udpServe(args[1])
	case "udp-loop":
		if len(args) != 3 {
			return errors.New("usage: netecho udp-loop ADDR MSG")
		}
		return udpLoop(args[1], args[2])
	case "udp":
		if len(args) != 3 {
			return errors.New("usage: netecho udp ADDR MSG")
		}
		return udpAsk(args[1], args[2])
	case "get":
		if len(args) != 3 {
			return errors.New("usage: netecho get URL N")
		}
		n, err := strconv.Atoi(args[2])
		if err != nil || n < 1 {
			return fmt.Errorf("count %q: want a positive number", args[2])
		}
		c := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		for range n {
			fmt.Println(get(c, args[1]))
		}
		return nil
	case "connect", "lookup":
		if len(args) != 3 {
			return fmt.Errorf("usage: netecho %s TARGET N", args[0])
		}
		n, err := strconv.Atoi(args[2])
		if err != nil || n < 1 {
			return fmt.Errorf("count %q: want a positive number", args[2])
		}
		one := connect
		if args[0] == "lookup" {
			one = lookup
		}
		start := time.Now()
		for range n {
			if err := one(args[1]); err != nil {
				return err
			}
		}
		fmt.Println(time.Since(start).Microseconds() / int64(n))
		return nil
	}
	return fmt.Errorf("unknown mode %q", args[0])
}

func udpServe(port string) error {
	host, err := os.Hostname()
	if err != nil {
		return err
	}
	conn, err := net.ListenPacket("udp", ":"+port)
	if err != nil {
		return err
	}
	buf := make([]byte, 1500)
	for {
		n, from, err := conn.ReadFrom(buf)
		if err != nil {
			return err
		}
		if _, err := conn.WriteTo([]byte(host+": "+string(buf[:n])), from); err != nil {
			fmt.Fprintln(os.Stderr, "netecho: answering", from, err)
		}
	}
}

func udpAsk(addr, msg string) error {
	conn, err := net.Dial("udp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	buf := make([]byte, 1500)
	for try := 0; ; try++ {
		if _, err := conn.Write([]byte(msg)); err != nil {
			return err
		}
		conn.SetReadDeadline(time.Now().Add(time.Second))
		n, err := conn.Read(buf)
		if err == nil {
			fmt.Println(string(buf[:n]))
			return nil
		}
		if try == 2 {
			return err
		}
	}
}

func udpLoop(addr, msg string) error {
	conn, err := net.Dial("udp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	buf := make([]byte, 1500)
	for {
		// A refused datagram (ICMP unreachable) fails the next call:
		// print it and go on from the same socket.
		if _, err := conn.Write([]byte(msg)); err != nil {
			fmt.Println("error:", err)
		}
		conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		n, err := conn.Read(buf)
		switch {
		case err == nil:
			fmt.Println(string(buf[:n]))
			time.Sleep(200 * time.Millisecond)
		case errors.Is(err, os.ErrDeadlineExceeded):
			fmt.Println("timeout")
		default:
			fmt.Println("error:", err)
			time.Sleep(200 * time.Millisecond)
		}
	}
}

func connect(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(2 * time.Second))
	// Ask for nothing, read what the server says: an HTTP server answers
	// the request line with a page and closes.
	if _, err := io.WriteString(conn, "GET / HTTP/1.0\r\n\r\n"); err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, conn)
	return err
}

// get fetches url with a fresh connection and returns the body's first
// line, or "FAILED: " and why.
func get(c *http.Client, url string) string {
	resp, err := c.Get(url)
	if err != nil {
		return "FAILED: " + err.Error()
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "FAILED: " + err.Error()
	}
	line, _, _ := strings.Cut(string(body), "\n")
	return line
}

func lookup(name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	r := &net.Resolver{PreferGo: true}
	addrs, err := r.LookupHost(ctx, name)
	if err == nil && len(addrs) == 0 {
		err = fmt.Errorf("%s: no addresses", name)
	}
	return err
}
