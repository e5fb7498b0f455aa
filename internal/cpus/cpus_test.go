package cpus

import (
	"os"
	"path/filepath"
	"testing"
)

func TestUsable(t *testing.T) {
	tests := []struct {
		name     string
		files    map[string]string
		affinity int
		want     int
	}{
		{
			name:     "no cgroup information",
			affinity: 8,
			want:     8,
		},
		{
			name: "v2 without limit",
			files: map[string]string{
				"proc/self/cgroup":                 "0::/user.slice\n",
				"sys/fs/cgroup/cpu.max":            "max 100000\n",
				"sys/fs/cgroup/user.slice/cpu.max": "max 100000\n",
			},
			affinity: 8,
			want:     8,
		},
		{
			name: "v2 quota rounds up",
			files: map[string]string{
				"proc/self/cgroup":          "0::/job\n",
				"sys/fs/cgroup/job/cpu.max": "150000 100000\n",
			},
			affinity: 8,
			want:     2,
		},
		{
			name: "v2 limit on an ancestor binds",
			files: map[string]string{
				"proc/self/cgroup":          "0::/a/b\n",
				"sys/fs/cgroup/a/cpu.max":   "300000 100000\n",
				"sys/fs/cgroup/a/b/cpu.max": "max 100000\n",
			},
			affinity: 16,
			want:     3,
		},
		{
			name: "v2 host path invisible in a container reads the mount root",
			files: map[string]string{
				"proc/self/cgroup":      "0::/docker/abc\n",
				"sys/fs/cgroup/cpu.max": "50000 100000\n",
			},
			affinity: 4,
			want:     1,
		},
		{
			name: "affinity below the quota wins",
			files: map[string]string{
				"proc/self/cgroup":      "0::/\n",
				"sys/fs/cgroup/cpu.max": "800000 100000\n",
			},
			affinity: 2,
			want:     2,
		},
		{
			name: "v1 quota",
			files: map[string]string{
				"proc/self/cgroup": "4:memory:/x\n3:cpu,cpuacct:/x\n",
				"sys/fs/cgroup/cpu,cpuacct/x/cpu.cfs_quota_us":  "250000\n",
				"sys/fs/cgroup/cpu,cpuacct/x/cpu.cfs_period_us": "100000\n",
			},
			affinity: 8,
			want:     3,
		},
		{
			name: "v1 unlimited",
			files: map[string]string{
				"proc/self/cgroup":                    "1:cpu:/\n",
				"sys/fs/cgroup/cpu/cpu.cfs_quota_us":  "-1\n",
				"sys/fs/cgroup/cpu/cpu.cfs_period_us": "100000\n",
			},
			affinity: 8,
			want:     8,
		},
		{
			name: "garbage files are ignored",
			files: map[string]string{
				"proc/self/cgroup":      "nonsense\n0::/\n",
				"sys/fs/cgroup/cpu.max": "lots 0\n",
			},
			affinity: 3,
			want:     3,
		},
		{
			name:     "at least one",
			affinity: 0,
			want:     1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			for name, content := range tt.files {
				p := filepath.Join(root, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if got := usable(root, tt.affinity); got != tt.want {
				t.Errorf("usable() = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestUsableOnThisMachine(t *testing.T) {
	if n := Usable(); n < 1 {
		t.Fatalf("Usable() = %d, want at least 1", n)
	}
}
