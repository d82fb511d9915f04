// Package report reads what the load script's tools print (wrk with
// --latency, `go test -bench`) and turns paired measurements into the rows
// of its table: a figure, the limit measured next to it in the same run,
// their ratio and whether the target is met.
package report

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// MaxOutput bounds the tool output the parsers read (wrk prints about
// 600 bytes, a benchmark binary a few KB); more is refused.
const MaxOutput = 1 << 20

// Wrk is what one wrk run measured.
type Wrk struct {
	Requests int64         // completed requests
	Duration time.Duration // as wrk reports it
	RPS      float64       // Requests/sec
	P50, P99 time.Duration
	// Non2xx counts responses with a status of 400 or more (wrk's "Non-2xx
	// or 3xx responses"); SocketErrors the connect, read, write and
	// timeout errors.
	Non2xx, SocketErrors int64
}

// Errors returns the number of failed requests.
func (w Wrk) Errors() int64 { return w.Non2xx + w.SocketErrors }

// ParseWrk reads the output of `wrk --latency`. It fails when a figure the
// table needs (requests, Requests/sec, the 50 % and 99 % latencies) is
// missing or malformed.
func ParseWrk(out string) (Wrk, error) {
	var w Wrk
	if len(out) > MaxOutput {
		return w, fmt.Errorf("wrk output of %d bytes is over %d", len(out), MaxOutput)
	}
	var haveRPS, haveReq, have50, have99 bool
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 0, 4096), MaxOutput)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		var err error
		switch {
		case f[0] == "Requests/sec:" && len(f) == 2:
			w.RPS, err = parseFloat(f[1])
			haveRPS = true
		case len(f) >= 4 && f[1] == "requests" && f[2] == "in":
			if w.Requests, err = strconv.ParseInt(f[0], 10, 64); err == nil && w.Requests < 0 {
				err = errors.New("negative request count")
			}
			if err == nil {
				w.Duration, err = parseWrkDuration(strings.TrimSuffix(f[3], ","))
			}
			haveReq = true
		case (f[0] == "50%" || f[0] == "99%") && len(f) == 2:
			var d time.Duration
			d, err = parseWrkDuration(f[1])
			if f[0] == "50%" {
				w.P50, have50 = d, true
			} else {
				w.P99, have99 = d, true
			}
		case f[0] == "Non-2xx" && len(f) == 5 && f[3] == "responses:":
			if w.Non2xx, err = strconv.ParseInt(f[4], 10, 64); err == nil && w.Non2xx < 0 {
				err = errors.New("negative error count")
			}
		case f[0] == "Socket" && len(f) == 10 && f[1] == "errors:":
			// Socket errors: connect 0, read 0, write 0, timeout 0
			for i := 3; i < 10; i += 2 {
				n, perr := strconv.ParseInt(strings.TrimSuffix(f[i], ","), 10, 64)
				if perr != nil || n < 0 {
					err = fmt.Errorf("socket errors %q", sc.Text())
					break
				}
				w.SocketErrors += n
			}
		}
		if err != nil {
			return w, fmt.Errorf("wrk line %q: %w", strings.TrimSpace(sc.Text()), err)
		}
	}
	if err := sc.Err(); err != nil {
		return w, fmt.Errorf("read wrk output: %w", err)
	}
	var missing []string
	for name, ok := range map[string]bool{"Requests/sec": haveRPS, "requests in": haveReq, "50%": have50, "99%": have99} {
		if !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return w, fmt.Errorf("wrk output lacks %s (was it run with --latency?)", strings.Join(missing, ", "))
	}
	return w, nil
}

// parseFloat parses a finite, non-negative number.
func parseFloat(s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return 0, fmt.Errorf("%q is not a non-negative number", s)
	}
	return v, nil
}

// wrkUnits are wrk's time units (units.c), longest suffix first.
var wrkUnits = []struct {
	suffix string
	unit   time.Duration
}{{"us", time.Microsecond}, {"ms", time.Millisecond}, {"s", time.Second}, {"m", time.Minute}, {"h", time.Hour}}

// parseWrkDuration parses one of wrk's durations: "523.00us", "1.45ms",
// "10.01s", "1.50m", "2.00h".
func parseWrkDuration(s string) (time.Duration, error) {
	for _, u := range wrkUnits {
		num, ok := strings.CutSuffix(s, u.suffix)
		if !ok {
			continue
		}
		v, err := parseFloat(num)
		if err != nil {
			return 0, fmt.Errorf("duration %q: %w", s, err)
		}
		if v > float64(24*time.Hour/u.unit) {
			return 0, fmt.Errorf("duration %q is over a day", s)
		}
		return time.Duration(v * float64(u.unit)), nil
	}
	return 0, fmt.Errorf("duration %q has no unit of wrk's (us, ms, s, m, h)", s)
}

// Bench is one result line of `go test -bench`.
type Bench struct {
	// Name is the benchmark's name without the -GOMAXPROCS suffix, e.g.
	// "BenchmarkExchange/postgres".
	Name string
	N    int64
	// Metrics maps a unit ("ns/op", "req/s", "p99_ms") to its value.
	Metrics map[string]float64
}

// ParseBench returns the result lines of a benchmark run's output, in
// order. Other lines (logs, PASS, ok) are skipped; a result line that does
// not parse is an error.
func ParseBench(out string) ([]Bench, error) {
	if len(out) > MaxOutput {
		return nil, fmt.Errorf("benchmark output of %d bytes is over %d", len(out), MaxOutput)
	}
	var res []Bench
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 0, 4096), MaxOutput)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		// A result: name, iterations, then value-unit pairs.
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
			continue
		}
		n, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			continue // "BenchmarkX  --- FAIL" and the like: not a result
		}
		if n <= 0 {
			return nil, fmt.Errorf("benchmark line %q: %d iterations", sc.Text(), n)
		}
		b := Bench{Name: trimProcs(f[0]), N: n, Metrics: map[string]float64{}}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := parseFloat(f[i])
			if err != nil {
				return nil, fmt.Errorf("benchmark line %q: %w", sc.Text(), err)
			}
			b.Metrics[f[i+1]] = v
		}
		res = append(res, b)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read benchmark output: %w", err)
	}
	return res, nil
}

// trimProcs removes the "-N" suffix go test adds when GOMAXPROCS is not 1.
func trimProcs(name string) string {
	i := strings.LastIndexByte(name, '-')
	if i < 0 || i == len(name)-1 {
		return name
	}
	if _, err := strconv.Atoi(name[i+1:]); err != nil {
		return name
	}
	return name[:i]
}

// Find returns the metric unit of the benchmark named name in bs.
func Find(bs []Bench, name, unit string) (float64, error) {
	for _, b := range bs {
		if b.Name == name {
			v, ok := b.Metrics[unit]
			if !ok {
				return 0, fmt.Errorf("benchmark %s reported no %s", name, unit)
			}
			return v, nil
		}
	}
	return 0, fmt.Errorf("no result for benchmark %s", name)
}

// Target is what a row must reach: its ratio at least MinRatio (or at
// most MaxRatio, for a row where less is better) and, when MaxP99 is set,
// its p99 at most MaxP99.
type Target struct {
	MinRatio, MaxRatio float64
	MaxP99             time.Duration
}

// Met reports whether ratio and p99 reach t.
func (t Target) Met(ratio float64, p99 time.Duration) bool {
	if t.MinRatio > 0 && !(ratio >= t.MinRatio) {
		return false
	}
	if t.MaxRatio > 0 && !(ratio <= t.MaxRatio) {
		return false
	}
	return t.MaxP99 == 0 || p99 <= t.MaxP99
}

func (t Target) String() string {
	var parts []string
	if t.MinRatio > 0 {
		parts = append(parts, fmt.Sprintf("≥ %.2f", t.MinRatio))
	}
	if t.MaxRatio > 0 {
		parts = append(parts, fmt.Sprintf("≤ %g×", t.MaxRatio))
	}
	if t.MaxP99 > 0 {
		parts = append(parts, "p99 ≤ "+strconv.FormatFloat(float64(t.MaxP99)/float64(time.Millisecond), 'f', -1, 64)+" ms")
	}
	if len(parts) == 0 {
		return "(info)"
	}
	return strings.Join(parts, ", ")
}

// Row is one figure next to its limit. Value and LimitValue are in Unit
// (a rate such as req/s, or µs for a latency row); the ratio is
// Value ÷ LimitValue.
type Row struct {
	Round      int
	Name       string
	Value      float64
	Unit       string
	P50, P99   time.Duration // 0 when the figure has none
	Limit      string        // what the limit is
	LimitValue float64
	// Note is extra context, e.g. the server's CPU use during the run.
	Note   string
	Target Target
}

// Ratio returns Value ÷ LimitValue (0 without a limit).
func (r Row) Ratio() float64 {
	if r.LimitValue <= 0 {
		return 0
	}
	return r.Value / r.LimitValue
}

// Met reports whether the row reaches its target.
func (r Row) Met() bool { return r.Target.Met(r.Ratio(), r.P99) }

// Write prints rows as a table.
func Write(w io.Writer, rows []Row) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "round\tpath\tvalue\tp50\tp99\tlimit (same round)\tlimit value\tratio\ttarget\tmet?\tnote")
	for _, r := range rows {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%.3f\t%s\t%s\t%s\n", r.Round, r.Name, num(r.Value, r.Unit),
			ms(r.P50), ms(r.P99), r.Limit, num(r.LimitValue, r.Unit), r.Ratio(), r.Target, metWord(r), r.Note)
	}
	return tw.Flush()
}

// Summary is a row's figures over the rounds: medians, and the range of
// the ratio.
type Summary struct {
	Name, Unit, Limit      string
	Rounds                 int
	Value, LimitValue      float64
	P50, P99               time.Duration
	Ratio, MinRat, MaxRat  float64
	Target                 Target
	Met                    bool
	MetRounds, TotalRounds int
}

// Summarize groups rows by name, in the order names first appear, and
// takes the median of each figure; a summary's Met is its target applied
// to the median ratio and median p99.
func Summarize(rows []Row) []Summary {
	var order []string
	by := map[string][]Row{}
	for _, r := range rows {
		if _, ok := by[r.Name]; !ok {
			order = append(order, r.Name)
		}
		by[r.Name] = append(by[r.Name], r)
	}
	out := make([]Summary, 0, len(order))
	for _, name := range order {
		rs := by[name]
		var vals, lims, ratios, p50s, p99s []float64
		met := 0
		for _, r := range rs {
			vals, lims, ratios = append(vals, r.Value), append(lims, r.LimitValue), append(ratios, r.Ratio())
			p50s, p99s = append(p50s, float64(r.P50)), append(p99s, float64(r.P99))
			if r.Met() {
				met++
			}
		}
		s := Summary{Name: name, Unit: rs[0].Unit, Limit: rs[0].Limit, Rounds: len(rs), Target: rs[0].Target,
			Value: median(vals), LimitValue: median(lims), Ratio: median(ratios),
			P50: time.Duration(median(p50s)), P99: time.Duration(median(p99s)),
			MinRat: slices.Min(ratios), MaxRat: slices.Max(ratios), MetRounds: met, TotalRounds: len(rs)}
		s.Met = s.Target.Met(s.Ratio, s.P99)
		out = append(out, s)
	}
	return out
}

// WriteSummary prints summaries as a table.
func WriteSummary(w io.Writer, ss []Summary) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "path\tvalue\tp50\tp99\tlimit\tlimit value\tratio (median)\tratio range\ttarget\tmet?\trounds met")
	for _, s := range ss {
		met := "yes"
		if s.Target == (Target{}) {
			met = "-"
		} else if !s.Met {
			met = "NO"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%.3f\t%.3f–%.3f\t%s\t%s\t%d/%d\n", s.Name, num(s.Value, s.Unit),
			ms(s.P50), ms(s.P99), s.Limit, num(s.LimitValue, s.Unit), s.Ratio, s.MinRat, s.MaxRat, s.Target, met,
			s.MetRounds, s.TotalRounds)
	}
	return tw.Flush()
}

func metWord(r Row) string {
	switch {
	case r.Target == (Target{}):
		return "-"
	case r.Met():
		return "yes"
	}
	return "NO"
}

// median returns the median of vs (the mean of the middle two for an even
// count); vs is reordered.
func median(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	slices.Sort(vs)
	m := len(vs) / 2
	if len(vs)%2 == 1 {
		return vs[m]
	}
	return (vs[m-1] + vs[m]) / 2
}

// ms formats d in milliseconds, "-" for 0.
func ms(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 3, 64) + " ms"
}

// num formats a value with its unit, thousands separated for large ones.
func num(v float64, unit string) string {
	if v >= 1000 {
		return group(int64(math.Round(v))) + " " + unit
	}
	return strconv.FormatFloat(v, 'f', 2, 64) + " " + unit
}

func group(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
