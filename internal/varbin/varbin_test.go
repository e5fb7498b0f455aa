package varbin

import (
	"reflect"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	var b []byte
	b = AppendUvarint(b, 1<<40)
	b = AppendVarint(b, -7)
	b = AppendString(b, "a\x00\xff")
	b = AppendBytes(b, []byte{1, 2})
	b = AppendStrings(b, []string{"", "x"})
	b = AppendBool(b, true)
	d := NewDecoder(b)
	got := []any{d.Uvarint(), d.Varint(), d.String(), d.Bytes(), d.Strings(), d.Bool()}
	want := []any{uint64(1 << 40), int64(-7), "a\x00\xff", []byte{1, 2}, []string{"", "x"}, true}
	if d.Err() != nil || !reflect.DeepEqual(got, want) || len(d.Rest()) != 0 {
		t.Fatalf("got %v (err %v, rest %d), want %v", got, d.Err(), len(d.Rest()), want)
	}
}

func TestBadInput(t *testing.T) {
	tests := []struct {
		name    string
		input   []byte
		read    func(d *Decoder)
		wantErr string
	}{
		{"empty varint", nil, func(d *Decoder) { d.Uvarint() }, "too short"},
		{"string longer than input", []byte{0x7f, 'a'}, func(d *Decoder) { _ = d.String() }, "exceeds the input"},
		{"list longer than input", []byte{0xff, 0xff, 0x03}, func(d *Decoder) { d.Strings() }, "exceeds the input"},
		{"bad boolean", []byte{2}, func(d *Decoder) { d.Bool() }, "boolean byte"},
		{"first error sticks", []byte{}, func(d *Decoder) { d.Byte(); d.Bool() }, "too short"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDecoder(tt.input)
			tt.read(d)
			if d.Err() == nil || !strings.Contains(d.Err().Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", d.Err(), tt.wantErr)
			}
		})
	}
}
