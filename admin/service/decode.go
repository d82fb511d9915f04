package service

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
)

// decodeObject calls field for each member of the JSON object data, in
// document order, and stops at the first error; anything but an object is
// an *json.UnmarshalTypeError naming t. null is no object and no error, as
// encoding/json treats it.
func decodeObject(data []byte, t reflect.Type, field func(key string, raw json.RawMessage) error) error {
	if string(bytes.TrimSpace(data)) == "null" {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return &json.UnmarshalTypeError{Value: valueKind(tok), Type: t, Offset: dec.InputOffset()}
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return err
		}
		if err := field(key, raw); err != nil {
			return err
		}
	}
	_, err = dec.Token() // the closing brace
	return err
}

// decodeField decodes raw into dst, naming the field name in a type error
// as encoding/json does for a struct field.
func decodeField(name string, raw json.RawMessage, dst any) error {
	err := json.Unmarshal(raw, dst)
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		te.Field = name
	}
	return err
}

func valueKind(tok json.Token) string {
	switch tok.(type) {
	case json.Delim:
		return "array"
	case string:
		return "string"
	case float64, json.Number:
		return "number"
	case bool:
		return "bool"
	}
	return "value"
}
