package runtime

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/podrun/podrun/runner/state"
)

// Bundled is where `make deps` installs the runc that podrun builds from
// its Go module at a pinned, current version. podrun runs it unless
// --runtime names another runtime.
const Bundled = "/usr/local/lib/podrun/runc"

// Default is the runtime podrun uses when none is named: the bundled runc
// where it is installed, else "runc" from $PATH.
func Default() string {
	if fi, err := os.Stat(Bundled); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
		return Bundled
	}
	return "runc"
}

// Info is what a runtime says of itself in `--version`.
type Info struct {
	Path    string // the binary that answered, as found on $PATH
	Name    string // "runc", "crun", or the first word it printed
	Version string // "1.5.3"
	Spec    string // the OCI runtime-spec version it implements, where it says
}

func (i Info) String() string {
	s := i.Name + " " + i.Version
	if i.Spec != "" {
		s += ", runtime-spec " + i.Spec
	}
	return s + " (" + i.Path + ")"
}

// Version asks binary for its version.
func Version(ctx context.Context, binary string) (Info, error) {
	path, err := exec.LookPath(binary)
	if err != nil {
		return Info{}, fmt.Errorf("finding OCI runtime %q: %w", binary, err)
	}
	out, err := exec.CommandContext(ctx, path, "--version").Output()
	if err != nil {
		return Info{}, fmt.Errorf("asking %s for its version: %w", path, err)
	}
	info, ok := parseVersion(out)
	if !ok {
		return Info{}, fmt.Errorf("reading the version of %s: cannot parse %q", path, firstLine(out))
	}
	info.Path = path
	return info, nil
}

// parseVersion reads runc's and crun's `--version` output:
//
//	runc version 1.5.3          crun version 1.8
//	commit: v1.5.3-0-g...       commit: 0356bf4...
//	spec: 1.3.0                 spec: 1.0.0
func parseVersion(out []byte) (Info, bool) {
	var info Info
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		switch {
		case len(fields) >= 3 && fields[1] == "version" && info.Name == "":
			info.Name, info.Version = fields[0], strings.TrimPrefix(fields[2], "v")
		case len(fields) >= 2 && fields[0] == "spec:":
			info.Spec = fields[1]
		}
	}
	return info, info.Name != ""
}

// CachedVersion is Version, remembered in cacheFile for as long as the
// binary is the same file (path, inode, size and modification time):
// asking a runtime costs a process start (about 20 ms), on every apply.
// A cache that cannot be read or written is only a cost, never an error.
func CachedVersion(ctx context.Context, binary, cacheFile string) (Info, error) {
	path, err := exec.LookPath(binary)
	if err != nil {
		return Info{}, fmt.Errorf("finding OCI runtime %q: %w", binary, err)
	}
	key, err := fileKey(path)
	if err != nil {
		return Info{}, fmt.Errorf("finding OCI runtime %q: %w", binary, err)
	}
	var cached struct {
		Key  string
		Info Info
	}
	if data, err := os.ReadFile(cacheFile); err == nil && json.Unmarshal(data, &cached) == nil && cached.Key == key {
		return cached.Info, nil
	}
	info, err := Version(ctx, path)
	if err != nil {
		return Info{}, err
	}
	cached.Key, cached.Info = key, info
	if data, err := json.Marshal(cached); err == nil {
		if os.MkdirAll(filepath.Dir(cacheFile), 0o700) == nil {
			_ = state.WriteFile(cacheFile, data, 0o600)
		}
	}
	return info, nil
}

// fileKey names one version of the file at path.
func fileKey(path string) (string, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s:%d:%d:%d:%d.%d", path, st.Dev, st.Ino, st.Size, st.Mtim.Sec, st.Mtim.Nsec), nil
}

func firstLine(b []byte) string {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	return string(line)
}

// floors are, per runtime, the oldest release of each supported line that
// has the fixes for the CVEs below; a release older than its line's floor,
// or of a line older than the first, is below the floor. For runc: 1.3.6,
// 1.4.3 and 1.5.0 and later (CVE-2025-31133, CVE-2025-52565 and
// CVE-2025-52881 are masked-path, /dev/console and procfs write
// redirections; CVE-2026-41579 lets an image's /dev symlink make runc
// write links in any host directory). For crun: 1.25, the first release
// after those disclosures. The two CVE lists are what Floor names.
var floors = map[string]struct {
	releases []string
	cves     []string
}{
	"runc": {[]string{"1.3.6", "1.4.3", "1.5.0"}, []string{"CVE-2025-31133", "CVE-2025-52565", "CVE-2025-52881", "CVE-2026-41579"}},
	"crun": {[]string{"1.25"}, []string{"CVE-2025-31133", "CVE-2025-52565", "CVE-2025-52881"}},
}

// FloorError says that a runtime is older than podrun's floor for it.
type FloorError struct {
	Info  Info
	Floor []string // the oldest good release of each line
	CVEs  []string
}

func (e *FloorError) Error() string {
	return fmt.Sprintf("OCI runtime %s %s (%s) is older than %s, the releases that fix %s: run `make deps` to build a current runc into %s (used by default), or name a current runtime with --runtime",
		e.Info.Name, e.Info.Version, e.Info.Path, list(e.Floor), list(e.CVEs), Bundled)
}

// Floor returns a *FloorError if info is a runtime podrun knows and its
// version is below the floor for it. Runtimes podrun does not know, and
// versions it cannot read, pass: the floor is a warning, not a gate.
func Floor(info Info) error {
	f, ok := floors[info.Name]
	if !ok {
		return nil
	}
	v, ok := parseRelease(info.Version)
	if !ok {
		return nil
	}
	if belowFloor(v, f.releases) {
		return &FloorError{Info: info, Floor: f.releases, CVEs: f.cves}
	}
	return nil
}

// belowFloor: v is older than the floor of its own line (same major and
// minor), or, on a line without a floor, older than the newest floor.
func belowFloor(v []int, releases []string) bool {
	for _, r := range releases {
		floor, _ := parseRelease(r)
		if v[0] == floor[0] && v[1] == floor[1] {
			return compare(v, floor) < 0
		}
	}
	newest, _ := parseRelease(releases[len(releases)-1])
	return compare(v, newest) < 0
}

// list joins "a", "b", "c" as "a, b and c".
func list(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// parseRelease reads "1.5.3", "1.8", "1.4.0-rc.2" (as 1.4.0) into [major,
// minor, patch].
func parseRelease(s string) ([]int, bool) {
	s, _, _ = strings.Cut(s, "-")
	s, _, _ = strings.Cut(s, "+")
	parts := strings.Split(s, ".")
	if len(parts) < 2 || len(parts) > 3 {
		return nil, false
	}
	v := make([]int, 3)
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return nil, false
		}
		v[i] = n
	}
	return v, true
}

func compare(a, b []int) int {
	for i := range a {
		if a[i] != b[i] {
			return a[i] - b[i]
		}
	}
	return 0
}
