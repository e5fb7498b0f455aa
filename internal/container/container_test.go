package container

import (
	"reflect"
	"testing"
)

func TestCommand(t *testing.T) {
	tests := []struct {
		name                         string
		engine, namespace, pod, ctnr string
		want                         []string
		err                          bool
	}{
		{name: "docker", engine: "docker", pod: "box", want: []string{"docker", "exec", "-i", "box", "/bin/sh"}},
		{name: "podman", engine: "podman", pod: "box", want: []string{"podman", "exec", "-i", "box", "/bin/sh"}},
		{name: "kubectl pod", engine: "kubectl", pod: "web-0", want: []string{"kubectl", "exec", "-i", "web-0", "--", "/bin/sh"}},
		{name: "kubectl namespace", engine: "kubectl", namespace: "ci", pod: "web-0",
			want: []string{"kubectl", "exec", "-i", "--namespace=ci", "web-0", "--", "/bin/sh"}},
		{name: "kubectl container", engine: "kubectl", namespace: "ci", pod: "web-0", ctnr: "app",
			want: []string{"kubectl", "exec", "-i", "--namespace=ci", "--container=app", "web-0", "--", "/bin/sh"}},
		{name: "kubectl container in the current namespace", engine: "kubectl", pod: "web-0", ctnr: "app",
			want: []string{"kubectl", "exec", "-i", "--container=app", "web-0", "--", "/bin/sh"}},
		{name: "unknown", engine: "lxc", pod: "box", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Command(tt.engine, tt.namespace, tt.pod, tt.ctnr)
			if (err != nil) != tt.err {
				t.Fatalf("err = %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}
