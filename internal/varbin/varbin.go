// Package varbin owns the compact binary field encoding that concurr's
// protocol messages and compiled templates share: unsigned and signed
// varints, single bytes, and length-prefixed byte strings and string lists.
//
// The Decoder never panics and never allocates more than its input's size,
// whatever lengths the input claims: every field is checked against the
// bytes that remain.
package varbin

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrShort is the error for input that ends inside a field.
var ErrShort = errors.New("input too short")

// AppendUvarint appends v.
func AppendUvarint(b []byte, v uint64) []byte { return binary.AppendUvarint(b, v) }

// AppendVarint appends v.
func AppendVarint(b []byte, v int64) []byte { return binary.AppendVarint(b, v) }

// AppendString appends s with its length.
func AppendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// AppendBytes appends s with its length.
func AppendBytes(b []byte, s []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// AppendStrings appends the count of ss, then each string.
func AppendStrings(b []byte, ss []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(ss)))
	for _, s := range ss {
		b = AppendString(b, s)
	}
	return b
}

// AppendBool appends v as one byte.
func AppendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

// Decoder reads fields in order, remembering the first error, so that a
// whole record decodes in one expression and is checked once.
type Decoder struct {
	b   []byte
	err error
}

// NewDecoder returns a decoder over b.
func NewDecoder(b []byte) *Decoder { return &Decoder{b: b} }

// Err returns the first error met.
func (d *Decoder) Err() error { return d.err }

// Rest returns the bytes not read yet.
func (d *Decoder) Rest() []byte { return d.b }

func (d *Decoder) fail(err error) {
	if d.err == nil {
		d.err = err
	}
	d.b = nil
}

// Uvarint reads an unsigned varint.
func (d *Decoder) Uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail(ErrShort)
		return 0
	}
	d.b = d.b[n:]
	return v
}

// Varint reads a signed varint.
func (d *Decoder) Varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail(ErrShort)
		return 0
	}
	d.b = d.b[n:]
	return v
}

// Byte reads one byte.
func (d *Decoder) Byte() byte {
	if len(d.b) < 1 {
		d.fail(ErrShort)
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

// Bool reads a byte that must be 0 or 1.
func (d *Decoder) Bool() bool {
	v := d.Byte()
	if v > 1 {
		d.fail(fmt.Errorf("boolean byte %d", v))
	}
	return v == 1
}

// raw returns the next length-prefixed byte string without copying.
func (d *Decoder) raw() []byte {
	n := d.Uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.fail(fmt.Errorf("field length %d exceeds the input", n))
		return nil
	}
	s := d.b[:n:n]
	d.b = d.b[n:]
	return s
}

// Bytes reads a length-prefixed byte string, copied.
func (d *Decoder) Bytes() []byte {
	s := d.raw()
	if s == nil {
		return nil
	}
	return append([]byte(nil), s...)
}

// String reads a length-prefixed string.
func (d *Decoder) String() string { return string(d.raw()) }

// Count reads a list length. Every element takes at least one byte, so a
// count beyond the remaining input is an error, which bounds allocations.
func (d *Decoder) Count() int {
	n := d.Uvarint()
	if d.err == nil && n > uint64(len(d.b)) {
		d.fail(fmt.Errorf("list length %d exceeds the input", n))
	}
	if d.err != nil {
		return 0
	}
	return int(n)
}

// Strings reads a counted list of strings; an empty list is nil.
func (d *Decoder) Strings() []string {
	n := d.Count()
	if n == 0 {
		return nil
	}
	s := make([]string, n)
	for i := range s {
		s[i] = d.String()
	}
	return s
}
