package launch

import (
	"strconv"
	"unicode/utf8"
)

// appendClaims appends c encoded as JSON to dst: the same bytes as
// json.Marshal(c), members in Claims' order, without reflection or
// allocation. Minting spends ~5 % of its time outside the signature, and
// json.Marshal was most of that. TestAppendClaimsIsJSONMarshal and
// FuzzAppendJSONString hold it to encoding/json byte for byte, so the
// tokens are what they were; decoding stays with encoding/json.
func appendClaims(dst []byte, c *Claims) []byte {
	dst = append(dst, `{"iss":`...)
	dst = appendJSONString(dst, c.Issuer)
	dst = append(dst, `,"aud":`...)
	dst = appendJSONString(dst, c.Audience)
	dst = append(dst, `,"sub":`...)
	dst = appendJSONString(dst, c.Subject)
	dst = append(dst, `,"iat":`...)
	dst = strconv.AppendInt(dst, c.IssuedAt, 10)
	dst = append(dst, `,"nbf":`...)
	dst = strconv.AppendInt(dst, c.NotBefore, 10)
	dst = append(dst, `,"exp":`...)
	dst = strconv.AppendInt(dst, c.Expires, 10)
	dst = append(dst, `,"jti":`...)
	dst = appendJSONString(dst, c.ID)
	dst = append(dst, `,"portico":{"tenant":`...)
	dst = appendJSONString(dst, c.Portico.Tenant)
	dst = append(dst, `,"plugin":`...)
	dst = appendJSONString(dst, c.Portico.Plugin)
	dst = append(dst, `,"role":`...)
	dst = appendJSONString(dst, c.Portico.Role)
	dst = append(dst, `,"locale":`...)
	dst = appendJSONString(dst, c.Portico.Locale)
	return append(dst, "}}"...)
}

// appendJSONString appends s as a JSON string exactly as encoding/json
// writes it: ", \ and control characters escaped (\b \f \n \r \t short),
// <, > and & as \u003c, \u003e and \u0026, U+2028 and U+2029 escaped, and
// each byte of invalid UTF-8 replaced by \ufffd.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
