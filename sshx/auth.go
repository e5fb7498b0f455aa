package sshx

import (
	"errors"
	"net"
	"os"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// credentials are the keys to offer to one server: ssh-agent's first, then
// identity files, as OpenSSH orders them.
type credentials struct {
	signers   []ssh.Signer
	encrypted []string // identity files skipped for want of a passphrase
	agentConn net.Conn
}

func (c *credentials) close() {
	if c.agentConn != nil {
		c.agentConn.Close()
	}
}

// loadCredentials gathers signers for e. With IdentitiesOnly, agent keys are
// offered only when they match a configured identity file.
func loadCredentials(e *endpoint) *credentials {
	c := &credentials{}
	var ids []identity
	for _, path := range e.identityFiles {
		pem, err := os.ReadFile(path)
		if err != nil {
			continue // OpenSSH, too, passes over missing identity files
		}
		id := identity{path: path}
		signer, err := ssh.ParsePrivateKey(pem)
		var missing *ssh.PassphraseMissingError
		switch {
		case err == nil:
			id.signer, id.pub = signer, signer.PublicKey()
		case errors.As(err, &missing):
			id.pub = missing.PublicKey
			if id.pub == nil {
				id.pub = readPublicKey(path + ".pub")
			}
		default:
			continue
		}
		ids = append(ids, id)
	}

	offered := map[string]bool{}
	if sock := os.Getenv("SSH_AUTH_SOCK"); sock != "" {
		if conn, err := net.Dial("unix", sock); err == nil {
			c.agentConn = conn
			if signers, err := agent.NewClient(conn).Signers(); err == nil {
				for _, s := range signers {
					if e.identitiesOnly && !matchesIdentity(s.PublicKey(), ids) {
						continue
					}
					c.signers = append(c.signers, s)
					offered[string(s.PublicKey().Marshal())] = true
				}
			}
		}
	}
	for _, id := range ids {
		if id.pub != nil && offered[string(id.pub.Marshal())] {
			continue
		}
		if id.signer == nil {
			c.encrypted = append(c.encrypted, id.path)
			continue
		}
		c.signers = append(c.signers, id.signer)
		offered[string(id.pub.Marshal())] = true
	}
	return c
}

// identity is a key from an identity file; signer is nil when the file is
// encrypted.
type identity struct {
	signer ssh.Signer
	pub    ssh.PublicKey
	path   string
}

func matchesIdentity(key ssh.PublicKey, ids []identity) bool {
	want := string(key.Marshal())
	for _, id := range ids {
		if id.pub != nil && string(id.pub.Marshal()) == want {
			return true
		}
	}
	return false
}

func readPublicKey(path string) ssh.PublicKey {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	k, _, _, _, err := ssh.ParseAuthorizedKey(b)
	if err != nil {
		return nil
	}
	return k
}

// authHint explains a failed authentication when keys were passed over.
func (c *credentials) authHint() string {
	if len(c.encrypted) == 0 {
		if len(c.signers) == 0 {
			return "no usable key: start ssh-agent and ssh-add a key, set IdentityFile in ssh_config, or use --ssh ssh"
		}
		return ""
	}
	return "the key " + strings.Join(c.encrypted, ", ") + " is encrypted and concurr cannot ask for its passphrase: add it to ssh-agent (ssh-add) or use --ssh ssh"
}
