package template

import "testing"

func TestCompletesCommandWord(t *testing.T) {
	tests := []struct {
		name    string
		words   []string
		args    []string
		raw     bool
		script  string // the job's script, with raw
		display string
	}{
		{"value ends the command word", []string{"l{}"}, []string{"s /bin/ls"}, true, "ls /bin/ls", "ls /bin/ls"},
		{"with arguments", []string{"l{} -d /"}, []string{"s"}, true, "ls -d /", "ls -d /"},
		{"all unquoted values go raw", []string{"{1}", "{2}"}, []string{"echo", "a b"}, true, "echo a b", "echo a b"},
		{"quoted values stay data", []string{"ech{}", "'{}'"}, []string{"o"}, true, `echo ''"${__concurr_1[*]}"''`, "echo 'o'"},
		{"argument is quoted", []string{"echo", "l{}"}, []string{"s /bin/ls"}, false, "", "echo l's /bin/ls'"},
		{"assignment is no command word", []string{"X={}", "env"}, []string{"a b"}, false, "", "X='a b' env"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tpl, err := Compile(tc.words, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := tpl.Raw != nil; got != tc.raw {
				t.Fatalf("raw %v, want %v", got, tc.raw)
			}
			j := Job{Seq: 1, Slot: 1, Args: tc.args}
			if tc.raw {
				if got := tpl.RawScript(j); got != tc.script {
					t.Errorf("script %q, want %q", got, tc.script)
				}
			}
			if got := tpl.Display(j); got != tc.display {
				t.Errorf("display %q, want %q", got, tc.display)
			}
		})
	}
}
