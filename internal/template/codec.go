package template

import (
	"encoding/binary"
	"fmt"

	"concurr/internal/varbin"
)

// binaryFormat versions the binary form; a decoder refuses others. Format 1
// also carried the words and options, for a display the agent never shows;
// format 2 had no --plus parameters, no job count and no words of several
// replacement strings.
const binaryFormat = 4

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
		b = appendParams(b, &v.Params)
		b = binary.AppendUvarint(b, uint64(len(v.Parts)))
		for _, p := range v.Parts {
			b = appendPart(b, p)
		}
	}
	b = varbin.AppendBool(b, p.FromInput)
	b = binary.AppendUvarint(b, p.Total)
	b = binary.AppendUvarint(b, uint64(len(p.Raw)))
	for _, part := range p.Raw {
		b = appendPart(b, part)
	}
	return b, nil
}

// UnmarshalProgram decodes a program encoded by MarshalBinary.
func UnmarshalProgram(b []byte) (*Program, error) {
	d := varbin.NewDecoder(b)
	if v := d.Uvarint(); d.Err() == nil && v != binaryFormat {
		return nil, fmt.Errorf("decode template: format %d, want %d", v, binaryFormat)
	}
	p := &Program{Script: d.String()}
	var err error
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
		if d.Err() != nil {
			break
		}
		if kind < uint64(KindArg) || kind > uint64(kindLast) {
			return nil, fmt.Errorf("decode template: variable %q has unknown kind %d", v.Name, kind)
		}
		if index > maxIndex || index < -maxIndex {
			return nil, fmt.Errorf("decode template: variable %q has position %d out of range", v.Name, index)
		}
		v.Kind, v.Index = Kind(kind), int(index)
		if err := decodeParams(d, v.Kind, &v.Params, v.Name); err != nil {
			return nil, fmt.Errorf("decode template: variable %q: %w", v.Name, err)
		}
		if v.Parts, err = decodeParts(d); err != nil {
			return nil, fmt.Errorf("decode template: variable %q: %w", v.Name, err)
		}
	}
	p.FromInput = d.Bool()
	p.Total = d.Uvarint()
	if p.Raw, err = decodeParts(d); err != nil {
		return nil, fmt.Errorf("decode template: %w", err)
	}
	if err := d.Err(); err != nil {
		return nil, fmt.Errorf("decode template: %w", err)
	}
	return p, nil
}

func appendPart(b []byte, p Part) []byte {
	b = varbin.AppendString(b, p.Lit)
	b = binary.AppendUvarint(b, uint64(p.Kind))
	b = binary.AppendVarint(b, int64(p.Index))
	return appendParams(b, &p.Params)
}

// appendParams encodes a replacement's --plus parameters.
func appendParams(b []byte, p *Params) []byte {
	b = varbin.AppendString(b, p.Pattern)
	b = varbin.AppendString(b, p.With)
	b = binary.AppendVarint(b, int64(p.From))
	return binary.AppendVarint(b, int64(p.Len))
}

// decodeParams reads what appendParams wrote for a replacement of kind k,
// checks it and compiles its pattern.
func decodeParams(d *varbin.Decoder, k Kind, p *Params, name string) error {
	p.Pattern, p.With = d.String(), d.String()
	from, length := d.Varint(), d.Varint()
	if d.Err() != nil {
		return nil
	}
	if from < 0 || from > maxIndex || length < -1 || length > maxIndex {
		return fmt.Errorf("substring %d:%d out of range", from, length)
	}
	p.From, p.Len = int(from), int(length)
	if p.Pattern != "" {
		return compileParams(k, p, name)
	}
	return nil
}

// decodeParts reads a counted list of parts; an empty list is nil.
func decodeParts(d *varbin.Decoder) ([]Part, error) {
	n := d.Count()
	if n == 0 || d.Err() != nil {
		return nil, nil
	}
	parts := make([]Part, n)
	for k := range parts {
		p := &parts[k]
		p.Lit = d.String()
		kind, index := d.Uvarint(), d.Varint()
		if d.Err() != nil {
			return nil, nil
		}
		if kind > uint64(kindLast) || index > maxIndex || index < -maxIndex {
			return nil, fmt.Errorf("part %d has kind %d, position %d", k, kind, index)
		}
		p.Kind, p.Index = Kind(kind), int(index)
		if err := decodeParams(d, p.Kind, &p.Params, p.Lit); err != nil {
			return nil, fmt.Errorf("part %d: %w", k, err)
		}
	}
	return parts, nil
}
