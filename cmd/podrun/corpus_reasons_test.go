package main

import (
	"regexp"
	"sort"
	"strings"
)

// reasons turns a refusal's text into short phrases that outlive changes
// of wording: no file, line, pod name or value, only what was refused.
func reasons(msg string) string {
	seen := map[string]bool{}
	var out []string
	for _, line := range strings.Split(msg, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		r := reason(line)
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	sort.Strings(out)
	return strings.Join(out, "; ")
}

var position = regexp.MustCompile(`^(?:error: )?\S+?:\d+: `)

func reason(line string) string {
	return position.ReplaceAllString(line, "")
}
