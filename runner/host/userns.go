package host

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/podrun/podrun/translate"
)

// IDRange is one line of a uid_map or gid_map: Count ids from Inside,
// in this namespace, are Outside in the parent namespace.
type IDRange struct {
	Inside, Outside, Count uint32
}

// IDMap is a uid_map or gid_map, as read.
type IDMap []IDRange

// ToHost maps an id of this namespace to its id in the parent namespace;
// ok is false when the id is not mapped.
func (m IDMap) ToHost(id uint32) (uint32, bool) {
	for _, r := range m {
		if id >= r.Inside && id-r.Inside < r.Count {
			return r.Outside + (id - r.Inside), true
		}
	}
	return 0, false
}

// initialMap is the map of the initial user namespace: every id, itself.
var initialMap = IDMap{{Inside: 0, Outside: 0, Count: 4294967295}}

// ParseIDMap reads a /proc/<pid>/uid_map or gid_map.
func ParseIDMap(data []byte) (IDMap, error) {
	var m IDMap
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 {
			return nil, fmt.Errorf("reading an id map: line %q has %d fields, want 3", sc.Text(), len(f))
		}
		var v [3]uint32
		for i, s := range f {
			n, err := strconv.ParseUint(s, 10, 32)
			if err != nil {
				return nil, fmt.Errorf("reading an id map: line %q: %w", sc.Text(), err)
			}
			v[i] = uint32(n)
		}
		m = append(m, IDRange{Inside: v[0], Outside: v[1], Count: v[2]})
	}
	return m, sc.Err()
}

// IsInitial reports whether m is the initial user namespace's map (all
// 2^32-1 ids mapped to themselves), as runc and the kernel's own tools
// decide it.
func (m IDMap) IsInitial() bool {
	return len(m) == 1 && m[0] == initialMap[0]
}

// UserNS describes the user namespace podrun runs in.
type UserNS struct {
	// Nested is true when it is not the initial user namespace: podrun
	// was started inside a rootless user namespace (the per-user
	// namespace holder, or `unshare --user`), where it is uid 0 with
	// capabilities over that namespace only.
	Nested   bool
	UID, GID IDMap
}

// ReadUserNS reads /proc/self/uid_map and gid_map. It is the one test of
// "rootless" below cmd: it looks at the maps, never at flags or the
// effective uid (which is 0 inside the holder).
func ReadUserNS() (UserNS, error) {
	return readUserNS("/proc/self")
}

func readUserNS(proc string) (UserNS, error) {
	var u UserNS
	for _, f := range []struct {
		name string
		m    *IDMap
	}{{"uid_map", &u.UID}, {"gid_map", &u.GID}} {
		data, err := os.ReadFile(proc + "/" + f.name)
		if err != nil {
			return UserNS{}, fmt.Errorf("reading podrun's %s: %w", f.name, err)
		}
		if *f.m, err = ParseIDMap(data); err != nil {
			return UserNS{}, fmt.Errorf("%s/%s: %w", proc, f.name, err)
		}
	}
	u.Nested = !u.UID.IsInitial()
	return u, nil
}

// InUserNS reports whether podrun runs in a user namespace that is not the
// initial one. An unreadable map counts as the initial namespace, so that
// root mode never changes on a /proc podrun cannot read. A process never
// changes user namespace (podrun does not call setns on one), so the
// answer is read once.
func InUserNS() bool { return inUserNS() }

var inUserNS = sync.OnceValue(func() bool {
	u, err := ReadUserNS()
	return err == nil && u.Nested
})

// OverlayOpaqueXattr is the extended attribute that marks an overlayfs
// directory opaque: trusted.overlay.opaque in the initial namespace, and
// user.overlay.opaque in a nested one, where trusted.* needs a capability
// of the initial namespace and overlayfs is mounted with userxattr
// (OverlayUserXattr).
func OverlayOpaqueXattr() string {
	if InUserNS() {
		return "user.overlay.opaque"
	}
	return "trusted.overlay.opaque"
}

// OverlayUserXattr says overlayfs must be mounted with its userxattr
// option: in a nested user namespace (kernel 5.11 or later lets it mount
// there), where its xattrs are user.overlay.*.
func OverlayUserXattr() bool { return InUserNS() }

// UserNSFacts is what translate must know when podrun runs in a user
// namespace that is not the initial one; the zero value (initial
// namespace) when it does not, so that root mode is unchanged.
func UserNSFacts() translate.UserNS {
	if !InUserNS() {
		return translate.UserNS{}
	}
	u := translate.UserNS{Nested: true, Cgroup: cgroupWritable("/sys/fs/cgroup"), RlimitHard: hardLimits()}
	if data, err := os.ReadFile("/proc/self/oom_score_adj"); err == nil {
		u.OOMScoreAdj, _ = strconv.Atoi(strings.TrimSpace(string(data)))
	}
	return u
}

// cgroupWritable reports whether podrun may make its pods' cgroups
// (translate.CgroupParent, under /podrun) in every hierarchy mounted under
// root: /podrun itself when it is there, else the hierarchy's root. In a
// user namespace that is true only where root prepared them for the user.
func cgroupWritable(root string) bool {
	var sfs unix.Statfs_t
	dirs := []string{root}
	if unix.Statfs(root, &sfs) != nil {
		return false
	}
	if sfs.Type != unix.CGROUP2_SUPER_MAGIC {
		entries, err := os.ReadDir(root)
		if err != nil {
			return false
		}
		dirs = dirs[:0]
		for _, e := range entries {
			p := filepath.Join(root, e.Name())
			if e.IsDir() && unix.Statfs(p, &sfs) == nil && sfs.Type == unix.CGROUP_SUPER_MAGIC {
				dirs = append(dirs, p)
			}
		}
	}
	if len(dirs) == 0 {
		return false
	}
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "podrun")); err == nil {
			d = filepath.Join(d, "podrun")
		}
		if unix.Access(d, unix.W_OK) != nil {
			return false
		}
	}
	return true
}

// hardLimits are podrun's hard rlimits, by the spec's names.
func hardLimits() map[string]uint64 {
	names := map[string]int{
		"RLIMIT_NOFILE": unix.RLIMIT_NOFILE, "RLIMIT_NPROC": unix.RLIMIT_NPROC,
		"RLIMIT_CORE": unix.RLIMIT_CORE, "RLIMIT_MEMLOCK": unix.RLIMIT_MEMLOCK,
		"RLIMIT_STACK": unix.RLIMIT_STACK, "RLIMIT_AS": unix.RLIMIT_AS,
	}
	hard := make(map[string]uint64, len(names))
	for n, r := range names {
		var l unix.Rlimit
		if unix.Getrlimit(r, &l) == nil {
			hard[n] = l.Max
		}
	}
	return hard
}
