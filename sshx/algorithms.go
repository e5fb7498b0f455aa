package sshx

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"golang.org/x/crypto/ssh"

	"concurr/internal/hint"
)

// The transport's algorithms follow ssh_config's KexAlgorithms, Ciphers and
// MACs, as ssh does: a list replaces the defaults, and a list that begins
// with "+" appends to them, "-" removes from them (wildcards allowed) and
// "^" puts in front of them. The defaults are the built-in client's. Names
// it does not implement (OpenSSH's sntrup761 key exchange, its umac MACs)
// are left out, as a client that lacks them must; a list left with none
// it implements is an error, with a hint to use the system's ssh, rather
// than a login with algorithms the user did not allow. Lists in a Match
// block, which the built-in client does not evaluate, are not applied: that
// is where system crypto policies set them (Match final all), for OpenSSH's
// own algorithms, and refusing every host there would help no one.

// algorithmKey is one of those keys and what the built-in client offers
// for it: its defaults and every name it implements.
type algorithmKey struct {
	name        string
	defaults    func() []string
	implemented func() []string
}

var algorithmKeys = []algorithmKey{
	{"KexAlgorithms",
		func() []string { return ssh.SupportedAlgorithms().KeyExchanges },
		func() []string {
			return slices.Concat(ssh.SupportedAlgorithms().KeyExchanges, ssh.InsecureAlgorithms().KeyExchanges)
		}},
	{"Ciphers",
		func() []string { return ssh.SupportedAlgorithms().Ciphers },
		func() []string {
			return slices.Concat(ssh.SupportedAlgorithms().Ciphers, ssh.InsecureAlgorithms().Ciphers)
		}},
	{"MACs",
		func() []string { return ssh.SupportedAlgorithms().MACs },
		func() []string { return slices.Concat(ssh.SupportedAlgorithms().MACs, ssh.InsecureAlgorithms().MACs) }},
}

// algorithms is the transport's algorithms for a host; a nil list leaves
// the built-in client's defaults.
type algorithms struct {
	kex, ciphers, macs []string
}

// apply sets the algorithms in config.
func (a algorithms) apply(config *ssh.Config) {
	config.KeyExchanges, config.Ciphers, config.MACs = a.kex, a.ciphers, a.macs
}

// algorithmsFor reads the three keys for alias.
func (c *sshConfig) algorithmsFor(alias string) (algorithms, error) {
	var a algorithms
	lists := []*[]string{&a.kex, &a.ciphers, &a.macs}
	for i, k := range algorithmKeys {
		v := c.get(alias, k.name)
		if v == "" {
			continue
		}
		list, err := algorithmList(v, k.defaults(), k.implemented())
		if err != nil {
			return algorithms{}, hint.Errorf(unsupportedHint, "ssh config: %s sets %s %s: %v: refusing to connect in another way", alias, k.name, v, err)
		}
		*lists[i] = list
	}
	return a, nil
}

// algorithmList applies an ssh_config algorithm list to defaults, and keeps
// the names in implemented.
func algorithmList(value string, defaults, implemented []string) ([]string, error) {
	op := value[0]
	if op == '+' || op == '-' || op == '^' {
		value = value[1:]
	} else {
		op = 0
	}
	var names []string
	for _, n := range strings.Split(value, ",") {
		if n = strings.TrimSpace(n); n != "" {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no algorithm named")
	}
	var list []string
	switch op {
	case '+':
		list = slices.Clone(defaults)
		for _, n := range names {
			if !slices.Contains(list, n) {
				list = append(list, n)
			}
		}
	case '^':
		list = slices.Clone(names)
		for _, d := range defaults {
			if !slices.Contains(list, d) {
				list = append(list, d)
			}
		}
	case '-':
		for _, d := range defaults {
			removed := false
			for _, pattern := range names {
				if ok, _ := path.Match(pattern, d); ok {
					removed = true
					break
				}
			}
			if !removed {
				list = append(list, d)
			}
		}
	default:
		list = names
	}
	kept := slices.DeleteFunc(slices.Clone(list), func(n string) bool { return !slices.Contains(implemented, n) })
	if len(kept) == 0 {
		return nil, fmt.Errorf("the built-in client implements none of %s", strings.Join(list, ","))
	}
	return kept, nil
}
