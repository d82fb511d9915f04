package auth

import (
	"encoding/base64"
	"strings"
)

// MaxAuthorization bounds the Authorization header value an API key is
// read from.
const MaxAuthorization = 256

// APIKeyFromHeader returns the API key an Authorization header value
// carries, in either of the two forms integrators send:
//
//   - "Bearer <key>";
//   - HTTP Basic with the key as the user name and an empty password
//     (curl -u pk_…:), or an empty user name and the key as the password.
//
// Scheme names are case-insensitive (RFC 9110, section 11.1). Anything
// else, or a value longer than MaxAuthorization, is no key (false).
func APIKeyFromHeader(header string) (string, bool) {
	if header == "" || len(header) > MaxAuthorization {
		return "", false
	}
	scheme, rest, ok := strings.Cut(header, " ")
	rest = strings.TrimSpace(rest)
	if !ok || rest == "" {
		return "", false
	}
	var key string
	switch {
	case strings.EqualFold(scheme, "Bearer"):
		key = rest
	case strings.EqualFold(scheme, "Basic"):
		raw, err := base64.StdEncoding.DecodeString(rest)
		if err != nil {
			return "", false
		}
		user, pass, ok := strings.Cut(string(raw), ":")
		switch {
		case !ok:
			return "", false
		case pass == "":
			key = user
		case user == "":
			key = pass
		default:
			return "", false
		}
	default:
		return "", false
	}
	if key == "" || strings.ContainsFunc(key, func(r rune) bool { return r <= ' ' || r >= 0x7f }) {
		return "", false
	}
	return key, true
}
