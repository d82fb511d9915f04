package abi

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// This file holds the rule of what reaches an action: the host applies it
// to every action call (the portal's page, the JSON API and `portico
// plugin run` all run through it) before the plugin runs, and refuses the
// call (400 plugin_invalid_input) when it fails; the SDK's test harness
// applies the same functions.

// CSRFField is the field the portal's page adds to every form of a
// plugin's view: the session's CSRF token. The portal checks it and
// removes it (RemovePageFields) before the form is checked (CheckForm)
// and reaches the plugin. Every other name starting with '_' is refused.
const CSRFField = "_csrf"

// RemovePageFields deletes from form, in place, the fields the portal's
// page adds to a plugin's form (CSRFField), which the plugin never sees.
// The JSON API's forms are not the page's: they are checked as sent.
func RemovePageFields(form map[string][]string) {
	delete(form, CSRFField)
}

// InputError says why the host refuses an action call before the plugin
// runs: Path is "action", "form" (the form as a whole, or a field name) or
// "form.NAME" (a value of the field NAME); Reason is English, for logs,
// test failures and `portico plugin run`.
type InputError struct {
	Path, Reason string
}

func (e *InputError) Error() string { return "invalid input: " + e.Path + ": " + e.Reason }

func inputErr(path, format string, args ...any) *InputError {
	return &InputError{Path: path, Reason: fmt.Sprintf(format, args...)}
}

// CheckAction checks an action call as the host does before the plugin
// runs: the action's name (ValidName), then its form (CheckForm). It
// returns a copy of the form; the error is an *InputError.
func CheckAction(action string, form map[string][]string) (map[string][]string, error) {
	if !ValidName(action) {
		return nil, inputErr("action", "%q is not a safe name (a letter, then letters, digits, '_', '.' or '-', at most %d bytes)", truncate(action), MaxName)
	}
	return CheckForm(form)
}

// CheckForm checks the values a browser or an app submitted to an action:
// safe field names (ValidName, so no '_' prefix: remove the page's own
// fields first with RemovePageFields), at most MaxFormKeys names and
// MaxFormValues values over all names, each value valid UTF-8 without a
// NUL byte and of at most MaxFormValue bytes, and at most MaxFormBytes of
// names and values in all. It returns a copy; the error is an
// *InputError.
func CheckForm(form map[string][]string) (map[string][]string, error) {
	if len(form) > MaxFormKeys {
		return nil, inputErr("form", "%d fields, at most %d", len(form), MaxFormKeys)
	}
	out := make(map[string][]string, len(form))
	values, total := 0, 0
	for k, vs := range form {
		if !ValidName(k) {
			why := "a letter, then letters, digits, '_', '.' or '-'"
			if strings.HasPrefix(k, "_") {
				why = "names starting with '_' are the portal's"
			}
			return nil, inputErr("form", "field name %q is not a safe name (%s)", truncate(k), why)
		}
		values += len(vs)
		if values > MaxFormValues {
			return nil, inputErr("form", "more than %d values", MaxFormValues)
		}
		for _, v := range vs {
			total += len(k) + len(v)
			switch {
			case len(v) > MaxFormValue:
				return nil, inputErr("form."+k, "a value of %d bytes, at most %d", len(v), MaxFormValue)
			case !utf8.ValidString(v):
				return nil, inputErr("form."+k, "a value is not valid UTF-8")
			case strings.IndexByte(v, 0) >= 0:
				return nil, inputErr("form."+k, "a value holds a NUL byte")
			}
		}
		if total > MaxFormBytes {
			return nil, inputErr("form", "more than %d bytes of names and values", MaxFormBytes)
		}
		out[k] = slices.Clone(vs)
	}
	return out, nil
}
