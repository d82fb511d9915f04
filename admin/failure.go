package admin

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/portico-dev/portico/admin/service"
	"github.com/portico-dev/portico/host/sandbox"
	"github.com/portico-dev/portico/host/web"
	"github.com/portico-dev/portico/internal/i18n"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/storage"
)

// Failure is how the admin answers an error that is the client's to fix.
// Classify is the one table both the JSON API and the HTML UI read, so an
// error has the same status, code and field whichever a gestor uses; the
// API writes it as its error body, the UI as the form's alert and field
// messages.
type Failure struct {
	Status int
	// Code names the failure; its message is "error."+Code, filled with
	// Args.
	Code string
	Args []any
	// Field is the input the failure concerns, if any; FieldKey is the
	// catalogue key of its message ("": the failure's own message).
	Field, FieldKey string
	// OnForm says the field is one the UI's form shows, so the UI puts
	// the message next to it (a hidden version or the order's slugs only
	// get the alert).
	OnForm bool
	// Invalid holds a validation failure's field codes (Code is then
	// "validation_failed").
	Invalid *model.ValidationError
	// Detail is the runtime's technical reason for a refused module
	// (English).
	Detail string
}

// MaxModuleText is the module size limit for people, e.g. "16 MiB".
var MaxModuleText = strconv.Itoa(sandbox.MaxModuleBytes>>20) + " MiB"

// Classify maps an error of the service, the store or the upload parsing
// onto its Failure; nil for errors that are not the client's (internal
// failures), which keep their usual handling. notFound is the code of
// model.ErrNotFound on the route.
func Classify(err error, notFound string) *Failure {
	var me *sandbox.ModuleError
	var dup *service.DuplicateError
	var param *service.ParamError
	if v, ok := model.AsValidation(err); ok {
		return &Failure{Status: http.StatusUnprocessableEntity, Code: "validation_failed", Invalid: v}
	}
	switch {
	case errors.As(err, &me):
		f := &Failure{Status: http.StatusUnprocessableEntity, Field: "module", OnForm: true, Detail: me.Detail}
		switch me.Code {
		case "too_large":
			f.Status, f.Code, f.Args = http.StatusRequestEntityTooLarge, "module_too_large", []any{"Max", MaxModuleText}
		case "abi_version":
			f.Code, f.Args = "module_abi_version", []any{"Want", me.Want, "Got", me.Got}
		case "not_wasm", "compile", "missing_export", "bad_import", "init",
			"start_section", "too_complex", "table_write", "compile_timeout", "init_timeout":
			f.Code = "module_" + me.Code
		default:
			f.Code = "module_invalid"
		}
		return f
	case errors.As(err, &dup):
		return &Failure{Status: http.StatusConflict, Code: "module_duplicate", Field: "module", OnForm: true, Args: []any{"Number", dup.Number}}
	case errors.Is(err, service.ErrSlugTaken):
		return &Failure{Status: http.StatusConflict, Code: "slug_taken", Field: "slug", FieldKey: "validation.slug_taken", OnForm: true}
	case errors.Is(err, service.ErrEmailTaken):
		return &Failure{Status: http.StatusConflict, Code: "email_taken", Field: "email", FieldKey: "validation.email_taken", OnForm: true}
	case errors.Is(err, service.ErrVersionNeeded):
		return &Failure{Status: http.StatusUnprocessableEntity, Code: "version_required", Field: "version", FieldKey: "validation.required"}
	case errors.Is(err, service.ErrInvalidAPIKey):
		return &Failure{Status: http.StatusUnauthorized, Code: "invalid_api_key"}
	case errors.Is(err, service.ErrMissingScope):
		return &Failure{Status: http.StatusForbidden, Code: "missing_scope"}
	case errors.Is(err, service.ErrNotTokenPlugin):
		return &Failure{Status: http.StatusConflict, Code: "not_token_plugin"}
	case errors.Is(err, service.ErrPluginMissing):
		return &Failure{Status: http.StatusNotFound, Code: "plugin_not_found"}
	case errors.Is(err, service.ErrNoData):
		return &Failure{Status: http.StatusNotFound, Code: "plugin_no_data"}
	case errors.As(err, &param):
		key := map[string]string{"too_long": "validation.too_long", "out_of_range": "validation.out_of_range"}[param.Code]
		if key == "" {
			key = "admin.validation.invalid"
		}
		return &Failure{Status: http.StatusBadRequest, Code: "invalid_parameter", Field: param.Name, FieldKey: key, OnForm: param.Name == "prefix"}
	case errors.Is(err, service.ErrModuleEmpty):
		return &Failure{Status: http.StatusUnprocessableEntity, Code: "module_empty", Field: "module", OnForm: true}
	case errors.Is(err, service.ErrModuleTooLarge):
		return &Failure{Status: http.StatusRequestEntityTooLarge, Code: "module_too_large", Field: "module", OnForm: true, Args: []any{"Max", MaxModuleText}}
	case errors.Is(err, errManyModules):
		return &Failure{Status: http.StatusUnprocessableEntity, Code: "module_many", Field: "module", OnForm: true}
	case errors.Is(err, errUnsupportedModuleType):
		return &Failure{Status: http.StatusUnsupportedMediaType, Code: "unsupported_module_type"}
	case errors.Is(err, errBadActivate):
		return &Failure{Status: http.StatusBadRequest, Code: "invalid_parameter", Field: "activate", FieldKey: "validation.wrong_type"}
	case errors.Is(err, service.ErrNoRuntime):
		return &Failure{Status: http.StatusServiceUnavailable, Code: "wasm_unavailable"}
	case errors.Is(err, service.ErrCheckBusy):
		return &Failure{Status: http.StatusServiceUnavailable, Code: "module_check_busy"}
	case errors.Is(err, storage.ErrNotWasm):
		return &Failure{Status: http.StatusUnprocessableEntity, Code: "plugin_not_wasm"}
	case errors.Is(err, storage.ErrNoPreviousVersion):
		return &Failure{Status: http.StatusConflict, Code: "no_previous_version"}
	case errors.Is(err, storage.ErrStale):
		return &Failure{Status: http.StatusConflict, Code: "stale_version"}
	case errors.Is(err, storage.ErrOrderMismatch):
		return &Failure{Status: http.StatusUnprocessableEntity, Code: "order_mismatch", Field: "slugs", FieldKey: "validation.order_mismatch"}
	case errors.Is(err, storage.ErrAlreadyRevoked):
		return &Failure{Status: http.StatusConflict, Code: "already_revoked"}
	case errors.Is(err, model.ErrNotFound):
		return &Failure{Status: http.StatusNotFound, Code: notFound}
	case errors.Is(err, model.ErrConflict):
		return &Failure{Status: http.StatusConflict, Code: "conflict"}
	}
	return nil
}

// Message is the failure's message in l's language.
func (f *Failure) Message(l *i18n.Localizer) string { return l.T("error."+f.Code, f.Args...) }

// FieldMessage is the message of the failure's field in l's language.
func (f *Failure) FieldMessage(l *i18n.Localizer) string {
	if f.FieldKey != "" {
		return l.T(f.FieldKey)
	}
	return f.Message(l)
}

// Problem is the failure as the edge's error value: its code, its
// message's arguments and its field (whose message is FieldKey's, or the
// failure's own). The runtime's Detail is not carried.
func (f *Failure) Problem() *web.Problem {
	if f.Invalid != nil {
		return web.Invalid(f.Invalid)
	}
	p := web.Fail(f.Status, f.Code)
	p.Args = f.Args
	switch {
	case f.Field != "" && f.FieldKey != "":
		p.Fields = map[string]string{f.Field: f.FieldKey}
	case f.Field != "":
		p.Fields = map[string]string{f.Field: "error." + f.Code}
	}
	return p
}

// ValidationKey is the catalogue key of a validation code's message: the
// shared one (validation.CODE), else the admin's (admin.validation.CODE),
// else a generic "invalid". has tells whether the catalogue holds a key.
// The admin's pages and API both name field problems with it.
func ValidationKey(has func(key string) bool, code string) string {
	for _, key := range []string{"validation." + code, "admin.validation." + code} {
		if has(key) {
			return key
		}
	}
	return "admin.validation.invalid"
}
