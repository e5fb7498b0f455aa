package parse

import "testing"

func TestParseSize(t *testing.T) {
	tests := []struct {
		in      string
		want    uint64
		wantErr bool
	}{
		{"", 0, false},
		{"100", 100, false},
		{"1K", 1024, false},
		{"1k", 1000, false},
		{"2G", 2 << 30, false},
		{"2g", 2e9, false},
		{"1Mi", 1 << 20, false},
		{"1mi", 1 << 20, false},
		{"1.5M", 3 << 19, false},
		{"x", 0, true},
		{"1Q", 0, true},
		{"-1G", 0, true},
		{"1KK", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSize(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("ParseSize(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestParseLoad(t *testing.T) {
	tests := []struct {
		in      string
		cores   int
		want    float64
		wantErr bool
	}{
		{"", 4, 0, false},
		{"3", 4, 3, false},
		{"2.5", 4, 2.5, false},
		{"100%", 4, 4, false},
		{"50%", 6, 3, false},
		{"0", 4, 0, true},
		{"many", 4, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			l, err := ParseLoad(tt.in)
			if (err != nil) != tt.wantErr || l.Of(tt.cores) != tt.want {
				t.Errorf("ParseLoad(%q).Of(%d) = %g, %v; want %g, error %v", tt.in, tt.cores, l.Of(tt.cores), err, tt.want, tt.wantErr)
			}
		})
	}
}
