package server

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"unicode/utf8"

	"misetup/api"
	"misetup/server/policy"
)

// maxFieldBytes caps every string field of a request body by its JSON path,
// in bytes (four per character at most, so 128-character passwords fit in
// 512). Validators check the finer rules (lengths in characters, formats).
var maxFieldBytes = map[string]int{
	"method":           16,
	"purpose":          32,
	"identifier":       254,
	"password":         512,
	"new_password":     512,
	"current_password": 512,
	"region":           8,
	"language":         35,
	"code":             32,
	"totp":             64,
	"via":              32,
	"device.id":        128,
	"device.name":      256,
	"device.model":     256,
	"device.os":        256,
	"name":             256,
	"display_name":     256,
	"email":            254,
	"phone":            64,
	"type":             16,
	"message":          1024,
	"state":            16,
	"result":           2048,
	"categories":       32,
	"sha256":           128,
	"blob":             128,
	"content_type":     255,
}

// defaultMaxFieldBytes caps string fields not named in maxFieldBytes.
const defaultMaxFieldBytes = 1024

// decode reads the JSON body of r into v, a pointer to a request struct.
// Every endpoint with a body goes through it, so every body gets the same
// checks; see decodeJSON.
func decode(r *http.Request, v any) error {
	return decodeJSON(r.Body, v)
}

// decodeJSON reads one JSON object from body into v and refuses, with a 4xx
// *api.Error naming the field where it can: a body over the limit (when body
// is an http.MaxBytesReader), an empty body, anything but an object,
// malformed JSON, unknown fields, wrong types, trailing data, invalid UTF-8
// and strings over their cap. It never panics on any input.
func decodeJSON(body io.Reader, v any) error {
	raw, err := io.ReadAll(body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return &api.Error{Code: api.CodeBodyTooLarge, Message: fmt.Sprintf("The request body is over %d bytes.", tooBig.Limit)}
		}
		return errInput("", "The request body could not be read.")
	}
	trimmed := bytes.TrimLeft(raw, " \t\r\n")
	if len(trimmed) == 0 {
		return errInput("", "The request body is empty; send a JSON object.")
	}
	if trimmed[0] != '{' {
		return errInput("", "The request body must be a JSON object.")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errInput("", "The request body has data after the JSON object.")
	}
	if err := checkStrings(reflect.ValueOf(v), ""); err != nil {
		return err
	}
	if !utf8.Valid(raw) {
		// Invalid bytes outside any string value (in a key, say).
		return errInput("", "The request body is not valid UTF-8.")
	}
	return nil
}

// decodeError turns an encoding/json error into a 400 naming the field.
func decodeError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var b64 base64.CorruptInputError
	switch {
	case errors.As(err, &syntax):
		return errInput("", "The request body is not valid JSON (at byte %d).", syntax.Offset)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return errInput("", "The request body must be a JSON object.")
		}
		return errInput(field, "%s must be %s, not %s.", field, jsonKind(typ.Type), typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errInput("", "The request body ends in the middle of the JSON object.")
	case errors.As(err, &b64):
		// data (an item's) is the only field of bytes in the API's bodies.
		return errInput("data", "data must be standard base64 (it is not, at byte %d).", int64(b64))
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name = strings.Trim(name, `"`)
		return errInput(name, "Unknown field %q.", policy.Sanitize(name))
	}
	return errInput("", "The request body is not valid: %s.", policy.Sanitize(err.Error()))
}

// jsonKind names the JSON kind a Go type decodes from.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "of another type"
}

// checkStrings walks the decoded request and refuses strings that are over
// their cap or were not valid UTF-8 on the wire (encoding/json turns invalid
// bytes and lone surrogates into U+FFFD, so that is what it looks for).
func checkStrings(v reflect.Value, path string) error {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return checkStrings(v.Elem(), path)
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			if path != "" {
				name = path + "." + name
			}
			if err := checkStrings(v.Field(i), name); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return nil // bytes (base64 on the wire), capped by the body's limit
		}
		for i := range v.Len() {
			if err := checkStrings(v.Index(i), path); err != nil {
				return err
			}
		}
	case reflect.String:
		s := v.String()
		max, ok := maxFieldBytes[path]
		if !ok {
			max = defaultMaxFieldBytes
		}
		if len(s) > max {
			return errInput(path, "%s is too long (at most %d bytes).", path, max)
		}
		if strings.ContainsRune(s, utf8.RuneError) || !policy.ValidUTF8(s) {
			return errInput(path, "%s is not valid UTF-8 text.", path)
		}
	}
	return nil
}
