// Package container reaches a running container or pod with its engine's
// exec: `docker exec -i`, `podman exec -i` or `kubectl exec -i`, whose
// stdio is then /bin/sh inside it. No TTY is asked for: the agent's stream
// is binary, and a TTY would mangle it.
package container

import "fmt"

// Command returns the local command whose stdio is /bin/sh in the
// container: engine is "docker", "podman" or "kubectl". For kubectl, name
// is the pod, and namespace and container may be "" for kubectl's own
// defaults (the context's namespace, the pod's default container).
func Command(engine, namespace, name, container string) ([]string, error) {
	switch engine {
	case "docker", "podman":
		return []string{engine, "exec", "-i", name, "/bin/sh"}, nil
	case "kubectl":
		argv := []string{"kubectl", "exec", "-i"}
		if namespace != "" {
			argv = append(argv, "--namespace="+namespace)
		}
		if container != "" {
			argv = append(argv, "--container="+container)
		}
		return append(argv, name, "--", "/bin/sh"), nil
	}
	return nil, fmt.Errorf("unknown container engine %q", engine)
}
