package auth

import (
	"strings"
	"testing"
)

// TestPasswordLengthOK holds the one password-length rule at its bounds,
// in characters (an accented letter is one), as the messages say.
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
		{"256 letters", strings.Repeat("a", MaxPasswordChars), true},
		{"257 letters", strings.Repeat("a", MaxPasswordChars+1), false},
		{"256 accented letters (512 bytes)", strings.Repeat("ç", 256), true},
		{"257 accented letters", strings.Repeat("ç", 257), false},
		{"256 four-byte characters", strings.Repeat("😀", 256), true},
	} {
		if got := PasswordLengthOK(tt.password); got != tt.ok {
			t.Errorf("%s: PasswordLengthOK = %v, want %v", tt.name, got, tt.ok)
		}
	}
}
