package storage

import "testing"

func TestDollarPlaceholders(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"a = ?", "a = $1"},
		{"INSERT INTO t (a, b, c) VALUES (?, ?, ?)", "INSERT INTO t (a, b, c) VALUES ($1, $2, $3)"},
		{"??", "$1$2"},
		{"ação = ?", "ação = $1"},
	} {
		if got := dollarPlaceholders(tt.in); got != tt.want {
			t.Errorf("dollarPlaceholders(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
