package errorsafe

import (
	"strings"
	"testing"
)

// TestJoinLinesCopiesOnlyWhatIsLogged: of a header whose first line is
// long (1 MB, within net/http's limit) and which has a second, joinLines
// copies only the maxValLog bytes the access log keeps, not the whole
// line, and those bytes are the ones a full join starts with.
func TestJoinLinesCopiesOnlyWhatIsLogged(t *testing.T) {
	long := strings.Repeat("a", 1<<20)
	for _, f := range []func(string) string{nil, strings.ToUpper} {
		vs := []string{"x", long, "b"}
		got := joinLines(vs, f)
		if len(got) > maxValLog+len(", ") {
			t.Errorf("joinLines of a %d-byte header returned %d bytes; want at most %d", len(long), len(got), maxValLog+len(", "))
		}
		full := "x, " + long + ", b"
		if f != nil {
			full = f(full)
		}
		if truncate(got, maxValLog) != truncate(full, maxValLog) {
			t.Errorf("joinLines kept %.40q…, not the start of the joined lines", got)
		}
	}
}
