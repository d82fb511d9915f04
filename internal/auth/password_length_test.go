package auth

import (
	"strings"
	"testing"
)

// TestPasswordLengthOK holds the one password-length rule at its bounds:
// characters are counted for the minimum (an accented letter is one), bytes
// for the maximum (what hashing costs).
func TestPasswordLengthOK(t *testing.T) {
	for _, tt := range []struct {
		name, password string
		ok             bool
	}{
		{"empty", "", false},
		{"9 letters", "abcdefghi", false},
		{"10 letters", "abcdefghij", true},
		{"9 accented letters (18 bytes)", strings.Repeat("ç", 9), false},
		{"10 accented letters", strings.Repeat("ç", 10), true},
		{"256 bytes", strings.Repeat("a", MaxPasswordLength), true},
		{"257 bytes", strings.Repeat("a", MaxPasswordLength+1), false},
		{"129 accented letters (258 bytes)", strings.Repeat("ç", 129), false},
	} {
		if got := PasswordLengthOK(tt.password); got != tt.ok {
			t.Errorf("%s: PasswordLengthOK = %v, want %v", tt.name, got, tt.ok)
		}
	}
}
