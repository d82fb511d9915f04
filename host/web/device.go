package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"time"

	"github.com/gofiber/fiber/v2"
)

// DeviceCookie marks a browser where an account has logged in before (the
// "device cookie" of OWASP's guidance on lock-outs). A login for that
// account from that browser does not spend, and is not refused by, the
// client address's budget: people behind one address (a company's NAT, a
// proxy without PORTICO_TRUSTED_PROXIES) are not locked out of their own
// accounts by an attacker spraying passwords from the same address. Nor
// does it spend the account's budget: it has one of its own, of the same
// size, so someone guessing the account's password from elsewhere locks
// the account against everyone but the browsers it logged in from. The value is an HMAC of the tenant
// and the account under a key derived from PORTICO_SECRET_KEY, so it names
// no one and cannot be made for another account; a browser keeps the last
// account it logged in to, and a new password of the account ends them all.
const DeviceCookie = "portico_device"

// DeviceCookieMaxAge is how long a browser stays known.
const DeviceCookieMaxAge = 365 * 24 * time.Hour

// deviceValue is the device cookie of the account (tenantID, email) whose
// stored password hash is passwordHash: a new password (a reset, a
// change) ends every device cookie of the account, so whoever held one
// before knows nothing that still counts. An account without a password
// has no device cookie.
func (e *Env) deviceValue(tenantID, email, passwordHash string) string {
	if passwordHash == "" {
		return ""
	}
	key := sha256.Sum256(append([]byte("portico-device-cookie-v2\x00"), e.Config.SecretKey...))
	mac := hmac.New(sha256.New, key[:])
	mac.Write([]byte(tenantID + "\x00" + email + "\x00" + passwordHash))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// knownDevice reports whether the request carries the device cookie of the
// account (tenantID, normalised email).
func (e *Env) knownDevice(c *fiber.Ctx, tenantID, email, passwordHash string) bool {
	got, want := c.Cookies(DeviceCookie), e.deviceValue(tenantID, email, passwordHash)
	return got != "" && want != "" && hmac.Equal([]byte(got), []byte(want))
}

// rememberDevice sets the device cookie of the account that just logged in.
func (e *Env) rememberDevice(c *fiber.Ctx, tenantID, email, passwordHash string) {
	c.Cookie(&fiber.Cookie{Name: DeviceCookie, Value: e.deviceValue(tenantID, email, passwordHash), Path: "/", HTTPOnly: true,
		MaxAge: int(DeviceCookieMaxAge / time.Second), SameSite: fiber.CookieSameSiteLaxMode, Secure: Secure(c)})
}
