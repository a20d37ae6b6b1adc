package translate

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// maxUserDBSize bounds how much of /etc/passwd or /etc/group is read.
const maxUserDBSize = 1 << 20

type passwdEntry struct {
	name     string
	uid, gid uint32
}

type groupEntry struct {
	name    string
	gid     uint32
	members []string
}

// resolveUser turns an image USER ("", "uid", "uid:gid", "name",
// "name:group", "uid:group") into a process user with containerd's rules,
// reading names from db, the container's root file system:
//
//   - a numeric uid alone takes its primary gid from /etc/passwd, or 0 when
//     the uid is not listed or there is no /etc/passwd;
//   - a name must be listed in /etc/passwd, a group name in /etc/group;
//   - a group after the colon replaces the user's primary gid;
//   - additional gids are the groups that list the user (looked up by name
//     for a numeric uid) as a member, other than the group named like the
//     user, with the primary gid first.
func resolveUser(user string, db fs.FS) (specs.User, error) {
	name, group, hasGroup := strings.Cut(user, ":")
	if name == "" {
		name = "0"
	}
	var u specs.User
	users, err := readPasswd(db)
	if err != nil {
		return u, err
	}
	if uid, err := parseID(name); err == nil {
		u.UID = uid
		if e, ok := findUser(users, func(e passwdEntry) bool { return e.uid == uid }); ok {
			u.GID = e.gid
			name = e.name
		} else {
			name = ""
		}
	} else {
		e, ok := findUser(users, func(e passwdEntry) bool { return e.name == name })
		if !ok {
			return u, fmt.Errorf("%w %q in /etc/passwd", ErrUnknownUser, name)
		}
		u.UID, u.GID = e.uid, e.gid
	}
	groups, err := readGroup(db)
	if err != nil {
		return u, err
	}
	if hasGroup {
		if gid, err := parseID(group); err == nil {
			u.GID = gid
		} else {
			i := slices.IndexFunc(groups, func(g groupEntry) bool { return g.name == group })
			if i < 0 {
				return u, fmt.Errorf("%w %q in /etc/group", ErrUnknownGroup, group)
			}
			u.GID = groups[i].gid
		}
	}
	u.AdditionalGids = []uint32{u.GID}
	if name == "" {
		return u, nil
	}
	for _, g := range groups {
		if g.name != name && slices.Contains(g.members, name) && !slices.Contains(u.AdditionalGids, g.gid) {
			u.AdditionalGids = append(u.AdditionalGids, g.gid)
		}
	}
	return u, nil
}

func parseID(s string) (uint32, error) {
	v, err := strconv.ParseUint(s, 10, 32)
	return uint32(v), err
}

func findUser(users []passwdEntry, match func(passwdEntry) bool) (passwdEntry, bool) {
	i := slices.IndexFunc(users, match)
	if i < 0 {
		return passwdEntry{}, false
	}
	return users[i], true
}

// readPasswd parses etc/passwd of db; a missing file (or db) is no users.
func readPasswd(db fs.FS) ([]passwdEntry, error) {
	var users []passwdEntry
	err := readUserDB(db, "etc/passwd", func(f []string) {
		if len(f) < 4 {
			return
		}
		uid, err1 := parseID(f[2])
		gid, err2 := parseID(f[3])
		if err1 == nil && err2 == nil {
			users = append(users, passwdEntry{name: f[0], uid: uid, gid: gid})
		}
	})
	return users, err
}

// readGroup parses etc/group of db; a missing file (or db) is no groups.
func readGroup(db fs.FS) ([]groupEntry, error) {
	var groups []groupEntry
	err := readUserDB(db, "etc/group", func(f []string) {
		if len(f) < 3 {
			return
		}
		gid, err := parseID(f[2])
		if err != nil {
			return
		}
		g := groupEntry{name: f[0], gid: gid}
		if len(f) > 3 && f[3] != "" {
			g.members = strings.Split(f[3], ",")
		}
		groups = append(groups, g)
	})
	return groups, err
}

// readUserDB calls line with the colon-separated fields of every entry of
// file name in db, reading at most maxUserDBSize bytes.
func readUserDB(db fs.FS, name string, line func([]string)) error {
	if db == nil {
		return nil
	}
	f, err := db.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("opening /%s: %w", name, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxUserDBSize+1))
	if err != nil {
		return fmt.Errorf("reading /%s: %w", name, err)
	}
	if len(data) > maxUserDBSize {
		return fmt.Errorf("reading /%s: larger than %d bytes", name, maxUserDBSize)
	}
	for l := range strings.SplitSeq(string(data), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") || strings.HasPrefix(l, "+") || strings.HasPrefix(l, "-") {
			continue
		}
		line(strings.Split(l, ":"))
	}
	return nil
}
