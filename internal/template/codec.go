package template

import (
	"encoding/binary"
	"fmt"

	"concurr/internal/varbin"
)

// binaryFormat versions the binary form; a decoder refuses others. Format 1
// also carried the words and options, for a display the agent never shows;
// format 2 had no --plus parameters and no job count.
const binaryFormat = 3

// MarshalBinary encodes the program for the wire: unsigned varints and
// length-prefixed strings, as in the protocol's frames.
func (p *Program) MarshalBinary() ([]byte, error) {
	b := binary.AppendUvarint(nil, binaryFormat)
	b = varbin.AppendString(b, p.Script)
	b = binary.AppendUvarint(b, uint64(len(p.Vars)))
	for _, v := range p.Vars {
		b = varbin.AppendString(b, v.Name)
		b = binary.AppendUvarint(b, uint64(v.Kind))
		b = binary.AppendVarint(b, int64(v.Index))
		b = varbin.AppendString(b, v.Prefix)
		b = varbin.AppendString(b, v.Suffix)
		b = varbin.AppendString(b, v.Pattern)
		b = varbin.AppendString(b, v.With)
		b = binary.AppendVarint(b, int64(v.From))
		b = binary.AppendVarint(b, int64(v.Len))
	}
	b = varbin.AppendBool(b, p.FromInput)
	b = binary.AppendUvarint(b, p.Total)
	return b, nil
}

// UnmarshalProgram decodes a program encoded by MarshalBinary.
func UnmarshalProgram(b []byte) (*Program, error) {
	d := varbin.NewDecoder(b)
	if v := d.Uvarint(); d.Err() == nil && v != binaryFormat {
		return nil, fmt.Errorf("decode template: format %d, want %d", v, binaryFormat)
	}
	p := &Program{Script: d.String()}
	n := d.Count()
	if n > 0 {
		p.Vars = make([]Var, n)
	}
	for i := range p.Vars {
		v := &p.Vars[i]
		v.Name = d.String()
		kind := d.Uvarint()
		index := d.Varint()
		v.Prefix, v.Suffix = d.String(), d.String()
		v.Pattern, v.With = d.String(), d.String()
		from, length := d.Varint(), d.Varint()
		if d.Err() != nil {
			break
		}
		if kind < uint64(KindArg) || kind > uint64(kindLast) {
			return nil, fmt.Errorf("decode template: variable %q has unknown kind %d", v.Name, kind)
		}
		if index > maxIndex || index < -maxIndex {
			return nil, fmt.Errorf("decode template: variable %q has position %d out of range", v.Name, index)
		}
		if from < 0 || from > maxIndex || length < -1 || length > maxIndex {
			return nil, fmt.Errorf("decode template: variable %q has substring %d:%d out of range", v.Name, from, length)
		}
		v.Kind, v.Index, v.From, v.Len = Kind(kind), int(index), int(from), int(length)
		if v.Pattern != "" {
			if err := compileParams(v.Kind, &v.Params, v.Name); err != nil {
				return nil, fmt.Errorf("decode template: %w", err)
			}
		}
	}
	p.FromInput = d.Bool()
	p.Total = d.Uvarint()
	if err := d.Err(); err != nil {
		return nil, fmt.Errorf("decode template: %w", err)
	}
	return p, nil
}
