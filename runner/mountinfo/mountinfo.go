// Package mountinfo reads this process's mount table from
// /proc/self/mountinfo: the one parser that teardown, the root file
// system code, the network namespace pins and the leak check share.
package mountinfo

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Mount is one line of mountinfo.
type Mount struct {
	ID     string // mount ID
	Parent string // parent mount ID
	Dev    string // major:minor of the file system
	Root   string // the file system's directory mounted here
	Point  string // mount point, unescaped
	FSType string // file system type, after the separator
	// Optional holds the optional fields, space-separated: "shared:N",
	// "master:N", "propagate_from:N" or "unbindable"; empty for a
	// private mount.
	Optional string
}

// Read returns every mount of this process's mount namespace, in the
// kernel's order.
func Read() ([]Mount, error) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("reading the mount table: %w", err)
	}
	return Parse(data)
}

// Parse reads mountinfo's text.
func Parse(data []byte) ([]Mount, error) {
	var mounts []Mount
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 5 {
			continue
		}
		m := Mount{ID: f[0], Parent: f[1], Dev: f[2], Root: Unescape(f[3]), Point: Unescape(f[4])}
		// Optional fields end at a lone "-"; the type follows it.
		for i := 6; i < len(f)-1; i++ {
			if f[i] == "-" {
				m.FSType = f[i+1]
				m.Optional = strings.Join(f[6:i], " ")
				break
			}
		}
		mounts = append(mounts, m)
	}
	return mounts, sc.Err()
}

// Under returns the mount points at dir or below it, deepest first, so
// that unmounting them in order never meets a busy parent.
func Under(dir string) ([]string, error) {
	mounts, err := Read()
	if err != nil {
		return nil, err
	}
	var points []string
	for _, m := range mounts {
		if Within(m.Point, dir) {
			points = append(points, m.Point)
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(points)))
	return points, nil
}

// Containing returns the mount that path (absolute, symlinks resolved)
// lies on: the last mounted of those whose point is the longest prefix.
func Containing(mounts []Mount, path string) (Mount, bool) {
	var best Mount
	found := false
	for _, m := range mounts {
		if Within(path, m.Point) && (!found || len(m.Point) >= len(best.Point)) {
			best, found = m, true
		}
	}
	return best, found
}

// IsMountPoint reports whether path, with symlinks resolved, is a mount
// point. A path that does not exist is not one.
func IsMountPoint(path string) (bool, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return false, err
	}
	if abs, err = filepath.EvalSymlinks(abs); err != nil {
		if os.IsNotExist(err) {
			return false, nil
		}
		return false, err
	}
	mounts, err := Read()
	if err != nil {
		return false, err
	}
	for _, m := range mounts {
		if m.Point == abs {
			return true, nil
		}
	}
	return false, nil
}

// Within reports whether path is dir or lies below it (lexically).
func Within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../") && !filepath.IsAbs(rel)
}

// Unescape undoes mountinfo's escapes: the kernel writes a space, tab,
// newline or backslash in a path as a backslash and three octal digits.
func Unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }
