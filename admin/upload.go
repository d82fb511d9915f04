package admin

import (
	"errors"
	"io"
	"mime"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/portico-dev/portico/admin/service"
	"github.com/portico-dev/portico/host/sandbox"
)

// errUnsupportedModuleType is a body that is neither application/wasm nor
// multipart/form-data.
var errUnsupportedModuleType = errors.New("unsupported module content type")

// errBadActivate is an activate parameter that is not a boolean.
var errBadActivate = errors.New("activate is not a boolean")

// errManyModules is a multipart upload with more than one module file.
var errManyModules = errors.New("more than one module file")

// ReadModule returns the uploaded module bytes and the activate flag from
// a raw application/wasm body or a multipart/form-data "module" file
// (activate from the query or a form field).
func ReadModule(c *fiber.Ctx) ([]byte, bool, error) {
	mt, _, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	if err != nil {
		return nil, false, errUnsupportedModuleType
	}
	activate, err := ParseActivate(c.Query("activate"))
	if err != nil {
		return nil, false, err
	}
	switch mt {
	case "application/wasm":
		if len(c.Body()) > sandbox.MaxModuleBytes {
			return nil, false, service.ErrModuleTooLarge
		}
		return c.Body(), activate, nil
	case fiber.MIMEMultipartForm:
		form, err := c.MultipartForm()
		if err != nil {
			return nil, false, fiber.ErrBadRequest
		}
		if vals := form.Value["activate"]; len(vals) > 0 && c.Query("activate") == "" {
			if activate, err = ParseActivate(vals[len(vals)-1]); err != nil {
				return nil, false, err
			}
		}
		files := form.File["module"]
		switch {
		case len(files) == 0:
			return nil, activate, service.ErrModuleEmpty
		case len(files) > 1:
			return nil, activate, errManyModules
		case files[0].Size > sandbox.MaxModuleBytes:
			return nil, activate, service.ErrModuleTooLarge
		}
		f, err := files[0].Open()
		if err != nil {
			return nil, activate, fiber.ErrBadRequest
		}
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, sandbox.MaxModuleBytes+1))
		if err != nil {
			return nil, activate, fiber.ErrBadRequest
		}
		if len(b) > sandbox.MaxModuleBytes {
			return nil, activate, service.ErrModuleTooLarge
		}
		return b, activate, nil
	}
	return nil, false, errUnsupportedModuleType
}

// ParseActivate reads the activate flag: absent, "false", "0" or "off"
// mean no; "true", "1" or "on" mean yes.
func ParseActivate(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "false", "0", "off":
		return false, nil
	case "true", "1", "on":
		return true, nil
	}
	return false, errBadActivate
}
