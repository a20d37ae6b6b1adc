package rootless

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Range is a run of subordinate ids: Start..Start+Count-1.
type Range struct {
	Start, Count int
}

// SubIDs reads the ranges of a subid file (/etc/subuid, /etc/subgid)
// that belong to the user, whose lines name it or its uid, in file order.
func SubIDs(path, user string, uid int) ([]Range, error) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	defer f.Close()
	return parseSubIDs(f, user, uid), nil
}

// parseSubIDs keeps the well-formed lines "NAME-OR-UID:START:COUNT" of
// the user; others are skipped, as shadow-utils does.
func parseSubIDs(r io.Reader, user string, uid int) []Range {
	var out []Range
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Split(strings.TrimSpace(sc.Text()), ":")
		if len(f) != 3 || (f[0] != user && f[0] != strconv.Itoa(uid)) {
			continue
		}
		start, err1 := strconv.Atoi(f[1])
		count, err2 := strconv.Atoi(f[2])
		if err1 != nil || err2 != nil || start < 0 || count <= 0 {
			continue
		}
		out = append(out, Range{start, count})
	}
	return out
}

// MapArgs are newuidmap's (or newgidmap's) mapping arguments: container
// root is the user, and ids from 1 on are the ranges, one after another.
func MapArgs(id int, ranges []Range) []string {
	args := []string{"0", strconv.Itoa(id), "1"}
	next := 1
	for _, r := range ranges {
		args = append(args, strconv.Itoa(next), strconv.Itoa(r.Start), strconv.Itoa(r.Count))
		next += r.Count
	}
	return args
}

// total counts the ids of ranges.
func total(ranges []Range) int {
	n := 0
	for _, r := range ranges {
		n += r.Count
	}
	return n
}
