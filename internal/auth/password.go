// Package auth holds Portico's credential primitives: argon2id password
// hashes, random session tokens and the login throttle.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters: OWASP's 2024 recommendation (19 MiB, 2 passes, one
// lane). Stored with each hash, so raising them later only affects new
// hashes.
const (
	argonMemoryKiB = 19 * 1024
	argonTime      = 2
	argonThreads   = 1
	argonKeyLen    = 32
	argonSaltLen   = 16
	// MaxPasswordLength bounds what is hashed, in bytes: the work an
	// attacker can ask for per guess (MaxPasswordChars characters of up
	// to four bytes).
	MaxPasswordLength = 4 * MaxPasswordChars
	// MinPasswordLength and MaxPasswordChars bound a new password, in
	// characters (what the messages say).
	MinPasswordLength = 10
	MaxPasswordChars  = 256
)

// PasswordLengthOK reports whether a new password has from
// MinPasswordLength to MaxPasswordChars characters: the one rule for every
// place a password is set (a gestor creating a user, a reset link, the
// account page).
func PasswordLengthOK(password string) bool {
	n := utf8.RuneCountInString(password)
	return n >= MinPasswordLength && n <= MaxPasswordChars && len(password) <= MaxPasswordLength
}

// hashSlots bounds concurrent argon2id computations so a burst of logins
// cannot allocate unbounded memory (each costs argonMemoryKiB).
var hashSlots = make(chan struct{}, max(2, runtime.NumCPU()))

// ErrMismatch means the password does not match the hash.
var ErrMismatch = errors.New("password mismatch")

// HashPassword returns a PHC-formatted argon2id hash of password.
func HashPassword(ctx context.Context, password string) (string, error) {
	if len(password) > MaxPasswordLength {
		return "", errors.New("password too long")
	}
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("read salt: %w", err)
	}
	key, err := derive(ctx, password, salt, argonTime, argonMemoryKiB, argonThreads, argonKeyLen)
	if err != nil {
		return "", err
	}
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, argonMemoryKiB, argonTime, argonThreads, enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// dummyHash is verified against when a login names an unknown account, so
// the response time does not reveal which e-mails exist.
const dummyHash = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$3Gq1bL0X4Vfh9i0m0bP9G2m8cW7p5p0sQpY6sQv3Yq4"

// VerifyPassword checks password against a PHC argon2id hash in constant
// time. An empty hash (an account without a password) never matches, but
// costs the same time as a real check.
func VerifyPassword(ctx context.Context, hash, password string) error {
	if hash == "" {
		hash = dummyHash
		password += "\x00never"
	}
	if len(password) > MaxPasswordLength {
		password = password[:MaxPasswordLength] + "\x00"
	}
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return errors.New("unsupported password hash format")
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return errors.New("unsupported argon2 version")
	}
	var mem, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &t, &p); err != nil {
		return fmt.Errorf("parse argon2 parameters: %w", err)
	}
	if mem == 0 || mem > 256*1024 || t == 0 || t > 10 || p == 0 || p > 8 {
		return errors.New("argon2 parameters out of range")
	}
	enc := base64.RawStdEncoding
	salt, err := enc.DecodeString(parts[4])
	if err != nil {
		return fmt.Errorf("decode salt: %w", err)
	}
	want, err := enc.DecodeString(parts[5])
	if err != nil || len(want) == 0 || len(want) > 64 {
		return errors.New("decode argon2 key")
	}
	got, err := derive(ctx, password, salt, t, mem, p, uint32(len(want)))
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return ErrMismatch
	}
	if hash == dummyHash {
		return ErrMismatch
	}
	return nil
}

func derive(ctx context.Context, password string, salt []byte, t, mem uint32, p uint8, keyLen uint32) ([]byte, error) {
	select {
	case hashSlots <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for a hashing slot: %w", ctx.Err())
	}
	defer func() { <-hashSlots }()
	return argon2.IDKey([]byte(password), salt, t, mem, p, keyLen), nil
}

// NewToken returns a random 256-bit token, URL-safe base64 encoded.
func NewToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err)) // the OS has no entropy: nothing is safe
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashToken returns the hex SHA-256 of a token; the database stores only
// this, never the token itself.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// EqualTokens compares two tokens in constant time.
func EqualTokens(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
