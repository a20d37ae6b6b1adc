package rootless

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// MinIDs is the subordinate range a user needs: ids 1..65535 inside,
// which images' users (nobody is 65534) and runAsUser take for granted.
const MinIDs = 65536

// ErrNotReady wraps the preflight failure that stops a rootless command.
var ErrNotReady = errors.New("this machine is not ready for rootless podrun")

// Check is one fact of the machine that rootless podrun depends on.
type Check struct {
	Name   string // "subuid", "newuidmap", ...
	OK     bool
	Detail string // what was found
	Fix    string // what to do when not OK (a command)
	// Info marks a fact that is shown but stops nothing.
	Info bool
}

// Machine names the files and programs the checks read, so that tests
// can point them elsewhere; the zero value is this machine's.
type Machine struct {
	SubUID, SubGID string // /etc/subuid, /etc/subgid
	Tun            string // /dev/net/tun
	Proc           string // /proc
	PATH           string // where to look for programs; default $PATH, /usr/bin, /usr/sbin, /bin, /sbin
}

func (m Machine) withDefaults() Machine {
	if m.SubUID == "" {
		m.SubUID = "/etc/subuid"
	}
	if m.SubGID == "" {
		m.SubGID = "/etc/subgid"
	}
	if m.Tun == "" {
		m.Tun = "/dev/net/tun"
	}
	if m.Proc == "" {
		m.Proc = "/proc"
	}
	if m.PATH == "" {
		m.PATH = os.Getenv("PATH") + ":/usr/bin:/usr/sbin:/bin:/sbin"
	}
	return m
}

// User is who the checks are for.
type User struct {
	Name     string
	UID, GID int
}

// CurrentUser is the user podrun runs as (the user outside, inside the
// namespaces).
func CurrentUser() (User, error) {
	uid := UID()
	u, err := user.LookupId(strconv.Itoa(uid))
	if err != nil {
		return User{}, fmt.Errorf("looking up uid %d in the user database: %w", uid, err)
	}
	gid, _ := strconv.Atoi(u.Gid)
	return User{Name: u.Username, UID: uid, GID: gid}, nil
}

// Checks looks at every fact rootless podrun depends on, in the order a
// user would fix them.
func (m Machine) Checks(u User) []Check {
	m = m.withDefaults()
	checks := []Check{m.userns()}
	checks = append(checks, m.subids(u)...)
	checks = append(checks, m.mappers()...)
	checks = append(checks, m.tun(), m.slirp(), m.ports(), m.cgroups(u))
	return checks
}

// Preflight runs the checks and returns an error wrapping ErrNotReady
// that names every failed one with its fix, or nil.
func (m Machine) Preflight(u User) error {
	var lines []string
	for _, c := range m.Checks(u) {
		if !c.OK && !c.Info {
			lines = append(lines, fmt.Sprintf("  %s: %s\n    fix: %s", c.Name, c.Detail, c.Fix))
		}
	}
	if len(lines) == 0 {
		return nil
	}
	return fmt.Errorf("%w (nothing was created):\n%s", ErrNotReady, strings.Join(lines, "\n"))
}

func (m Machine) readInt(path string) (int, bool) {
	b, err := os.ReadFile(m.Proc + "/sys/" + path)
	if err != nil {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	return n, err == nil
}

func (m Machine) userns() Check {
	c := Check{Name: "user namespaces", OK: true, Detail: "unprivileged users may create them"}
	if n, ok := m.readInt("user/max_user_namespaces"); ok && n == 0 {
		return Check{Name: c.Name, Detail: "user.max_user_namespaces is 0",
			Fix: "sudo sysctl -w user.max_user_namespaces=28633 (and set it in /etc/sysctl.d/)"}
	}
	if n, ok := m.readInt("kernel/unprivileged_userns_clone"); ok && n == 0 {
		return Check{Name: c.Name, Detail: "kernel.unprivileged_userns_clone is 0",
			Fix: "sudo sysctl -w kernel.unprivileged_userns_clone=1 (and set it in /etc/sysctl.d/)"}
	}
	if n, ok := m.readInt("kernel/apparmor_restrict_unprivileged_userns"); ok && n == 1 {
		return Check{Name: c.Name, Detail: "AppArmor restricts unprivileged user namespaces",
			Fix: "sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0, or an AppArmor profile for podrun with the userns rule"}
	}
	return c
}

func (m Machine) subids(u User) []Check {
	var out []Check
	for _, f := range []struct{ name, path, flag string }{
		{"subuid", m.SubUID, "--add-subuids"}, {"subgid", m.SubGID, "--add-subgids"},
	} {
		c := Check{Name: f.name}
		ranges, err := SubIDs(f.path, u.Name, u.UID)
		switch n := total(ranges); {
		case err != nil:
			c.Detail = err.Error()
		case n == 0:
			c.Detail = fmt.Sprintf("%s has no range for %s (uid %d)", f.path, u.Name, u.UID)
		case n < MinIDs-1:
			c.Detail = fmt.Sprintf("%s gives %s only %d ids, fewer than %d", f.path, u.Name, n, MinIDs-1)
		default:
			c.OK = true
			c.Detail = fmt.Sprintf("%d ids from %s", n, f.path)
		}
		c.Fix = fmt.Sprintf("sudo usermod %s 100000-165535 %s (a range no other user has)", f.flag, u.Name)
		out = append(out, c)
	}
	return out
}

// lookPath finds name in m.PATH.
func (m Machine) lookPath(name string) (string, error) {
	for _, dir := range strings.Split(m.PATH, ":") {
		if dir == "" {
			continue
		}
		p := dir + "/" + name
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", exec.ErrNotFound
}

func (m Machine) mappers() []Check {
	var out []Check
	for _, name := range []string{"newuidmap", "newgidmap"} {
		c := Check{Name: name, Fix: "sudo apt-get install uidmap"}
		p, err := m.lookPath(name)
		if err != nil {
			c.Detail = name + " is not installed"
			out = append(out, c)
			continue
		}
		fi, _ := os.Stat(p)
		caps, _ := unix.Getxattr(p, "security.capability", nil)
		st, _ := fi.Sys().(*syscall.Stat_t)
		if (fi.Mode()&os.ModeSetuid != 0 && st != nil && st.Uid == 0) || caps > 0 {
			c.OK, c.Detail = true, p
		} else {
			c.Detail = p + " is neither setuid root nor has file capabilities"
			c.Fix = "sudo chmod u+s " + p + " (or reinstall: sudo apt-get install --reinstall uidmap)"
		}
		out = append(out, c)
	}
	return out
}

func (m Machine) tun() Check {
	c := Check{Name: "/dev/net/tun"}
	f, err := os.OpenFile(m.Tun, os.O_RDWR, 0)
	if err == nil {
		f.Close()
		c.OK, c.Detail = true, m.Tun+" opens read-write"
		return c
	}
	c.Detail = fmt.Sprintf("%s does not open: %v (slirp4netns needs it for the pods' uplink)", m.Tun, err)
	c.Fix = "sudo chmod 0666 " + m.Tun + `, and keep it so with the udev rule KERNEL=="tun", MODE="0666" in /etc/udev/rules.d/50-tun.rules`
	if errors.Is(err, os.ErrNotExist) {
		c.Fix = "sudo modprobe tun"
	}
	return c
}

func (m Machine) slirp() Check {
	c := Check{Name: "slirp4netns", Fix: "sudo apt-get install slirp4netns"}
	if p, err := m.lookPath("slirp4netns"); err == nil {
		c.OK, c.Detail = true, p
	} else {
		c.Detail = "slirp4netns is not installed (it is the pods' network uplink)"
	}
	return c
}

func (m Machine) ports() Check {
	c := Check{Name: "low ports", Info: true, OK: true}
	n, ok := m.readInt("net/ipv4/ip_unprivileged_port_start")
	if !ok {
		n = 1024
	}
	c.Detail = fmt.Sprintf("hostPorts below %d cannot be published (net.ipv4.ip_unprivileged_port_start)", n)
	if n == 0 {
		c.Detail = "every hostPort can be published"
	}
	c.OK = n == 0
	c.Fix = "sudo sysctl -w net.ipv4.ip_unprivileged_port_start=80, to publish ports from 80 on"
	return c
}

// cgroups says which resource limits apply: on cgroup v2 those of the
// controllers delegated to the user, on v1 none (runc cannot write a
// v1 hierarchy it does not own).
func (m Machine) cgroups(u User) Check {
	c := Check{Name: "resource limits", Info: true}
	var st unix.Statfs_t
	if unix.Statfs("/sys/fs/cgroup", &st) != nil || st.Type != unix.CGROUP2_SUPER_MAGIC {
		c.Detail = "cgroup v1: no limits apply (memory, cpu, pids requests and limits are recorded, not enforced)"
		c.Fix = "boot with systemd.unified_cgroup_hierarchy=1 and delegate controllers to users (systemd's user@.service Delegate=yes)"
		return c
	}
	path := fmt.Sprintf("/sys/fs/cgroup/user.slice/user-%d.slice/user@%d.service/cgroup.controllers", u.UID, u.UID)
	b, err := os.ReadFile(path)
	if err != nil || len(strings.TrimSpace(string(b))) == 0 {
		c.Detail = "cgroup v2 without a subtree delegated to the user: no limits apply"
		c.Fix = "log in through systemd-logind (user@" + strconv.Itoa(u.UID) + ".service) with Delegate=yes"
		return c
	}
	c.OK = true
	c.Detail = "cgroup v2, limits of the delegated controllers apply: " + strings.TrimSpace(string(b))
	return c
}
