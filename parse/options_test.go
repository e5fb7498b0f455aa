package parse

import (
	"testing"
	"time"
)

func TestParseJobs(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		cores   int
		want    int
		wantErr bool
	}{
		{"empty is one per core", "", 8, 8, false},
		{"empty on a node reporting no cores", "", 0, 1, false},
		{"fixed", "4", 8, 4, false},
		{"fixed above the cores", "20", 2, 20, false},
		{"zero is as many as possible", "0", 8, 256, false},
		{"spaces around", " 3 ", 8, 3, false},
		{"percent", "50%", 8, 4, false},
		{"percent rounds up", "50%", 3, 2, false},
		{"percent above 100", "200%", 3, 6, false},
		{"small percent keeps one", "1%", 8, 1, false},
		{"fraction percent", "12.5%", 8, 1, false},
		{"plus", "+2", 4, 6, false},
		{"minus", "-1", 4, 3, false},
		{"minus keeps one", "-10", 4, 1, false},
		{"negative fixed is minus", "-0", 4, 4, false},
		{"word", "many", 0, 0, true},
		{"zero percent", "0%", 0, 0, true},
		{"negative percent", "-5%", 0, 0, true},
		{"percent word", "x%", 0, 0, true},
		{"infinite percent", "Inf%", 0, 0, true},
		{"NaN percent", "NaN%", 0, 0, true},
		{"plus word", "+x", 0, 0, true},
		{"fraction", "1.5", 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j, err := ParseJobs(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseJobs(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if got := j.Slots(tt.cores); got != tt.want {
				t.Errorf("ParseJobs(%q).Slots(%d) = %d, want %d", tt.in, tt.cores, got, tt.want)
			}
		})
	}
}

func TestParseHalt(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Halt
		wantErr string
	}{
		{"empty", "", Halt{}, ""},
		{"never", "never", Halt{}, ""},
		{"old 0", "0", Halt{}, ""},
		{"old 1 is soon on a failure", "1", Halt{On: HaltOnFail, Count: 1}, ""},
		{"old 2 is now on a failure", "2", Halt{On: HaltOnFail, Now: true, Count: 1}, ""},
		{"now fail", "now,fail=1", Halt{On: HaltOnFail, Now: true, Count: 1}, ""},
		{"soon success", "soon,success=3", Halt{On: HaltOnSuccess, Count: 3}, ""},
		{"done percent", "now,done=50%", Halt{On: HaltOnDone, Now: true, Percent: 50}, ""},
		{"all percent", "soon,fail=100%", Halt{On: HaltOnFail, Percent: 100}, ""},
		{"no comma", "now", Halt{}, "want when,condition"},
		{"bad when", "later,fail=1", Halt{}, `"later" is neither now nor soon`},
		{"no count", "now,fail", Halt{}, "want a condition such as fail=1"},
		{"bad condition", "now,crash=1", Halt{}, `"crash" is not fail, success or done`},
		{"zero count", "now,fail=0", Halt{}, "want a count of at least 1"},
		{"word count", "now,fail=x", Halt{}, "want a count of at least 1"},
		{"zero percent", "now,fail=0%", Halt{}, "want a percentage above 0 and at most 100"},
		{"percent above 100", "now,fail=101%", Halt{}, "want a percentage above 0 and at most 100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseHalt(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("ParseHalt(%q) error = %v, want %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseHalt(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("ParseHalt(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseTimeout(t *testing.T) {
	tests := []struct {
		name        string
		in          string
		want        time.Duration
		wantPercent float64
		wantErr     string
	}{
		{"empty", "", 0, 0, ""},
		{"seconds", "30", 30 * time.Second, 0, ""},
		{"fraction", "0.5", 500 * time.Millisecond, 0, ""},
		{"duration", "1m30s", 90 * time.Second, 0, ""},
		{"percent", "200%", 0, 200, ""},
		{"fraction percent", "150.5%", 0, 150.5, ""},
		{"zero", "0", 0, 0, "want a positive time"},
		{"zero duration", "0s", 0, 0, "want a positive time"},
		{"zero percent", "0%", 0, 0, "want a positive percentage"},
		{"word percent", "x%", 0, 0, "want a positive percentage"},
		{"infinite percent", "Inf%", 0, 0, "want a positive percentage"},
		{"negative", "-1", 0, 0, "want a positive number of seconds"},
		{"word", "soon", 0, 0, "want seconds, as in 2.5, or a duration, as in 1m30s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, p, err := ParseTimeout(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("ParseTimeout(%q) error = %v, want %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseTimeout(%q): %v", tt.in, err)
			}
			if d != tt.want || p != tt.wantPercent {
				t.Errorf("ParseTimeout(%q) = %v, %v%%, want %v, %v%%", tt.in, d, p, tt.want, tt.wantPercent)
			}
		})
	}
}

func TestParseSeconds(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    time.Duration
		wantErr bool
	}{
		{"empty", "", 0, false},
		{"zero", "0", 0, false},
		{"seconds", "2", 2 * time.Second, false},
		{"fraction", "2.5", 2500 * time.Millisecond, false},
		{"duration", "150ms", 150 * time.Millisecond, false},
		{"negative", "-1", 0, true},
		{"negative duration", "-1s", 0, true},
		{"too large", "2e9", 0, true},
		{"infinite", "Inf", 0, true},
		{"NaN", "NaN", 0, true},
		{"word", "later", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSeconds(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseSeconds(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("ParseSeconds(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}
