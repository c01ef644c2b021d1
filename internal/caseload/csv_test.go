package caseload

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mutualhq/mutual/internal/app"
)

const csvHeader = "person_ref,team,coordinator_email,start_date,end_date,birth_year\r\n"
const csvRow = "R1,North Team,a@test.example,2026-01-02,,1990\r\n"

// malformedCSV are the ways a caseload file goes wrong, each with the start
// of the message it must give: a problem on a line ("3: …" is line 3, any
// column; "3/birth_year: …" names the column) or the file refused ("file: …").
var malformedCSV = []struct {
	name, data, want string
}{
	{"unclosed quote", csvHeader + csvRow + "R2,\"North Team,a@test.example,2026-01-02,,1990\r\n" + csvRow, "3: a value in quotes (\") starting on this line is never closed"},
	{"unclosed quote in the first value", csvHeader + "\"R2,North Team,a@test.example,2026-01-02,,1990\r\n", "2: a value in quotes (\") starting on this line is never closed"},
	{"bare quote in the first value", csvHeader + "R\"2,North Team,a@test.example,2026-01-02,,1990\r\n" + csvRow, "2: there is a quote (\") inside a value, at character 2"},
	{"unclosed quote in the header", "person_ref,\"team\r\n" + csvRow, "file: The header row is not valid CSV: line 1"},
	{"text after a closing quote", csvHeader + "R2,\"North\" Team,a@test.example,2026-01-02,,1990\r\n" + csvRow, "2: a value in quotes"},
	{"bare quote", csvHeader + "R2,North \"Team\",a@test.example,2026-01-02,,1990\r\n" + csvRow, "2: there is a quote"},
	{"too few values", csvHeader + "R2,North Team\r\n", "2: this line has 2 values but the header has 6 columns"},
	{"too many values", csvHeader + "R2,North Team,a@test.example,2026-01-02,,1990,extra\r\n", "2: this line has 7 values"},
	{"UTF-16", "\xff\xfep\x00e\x00r\x00", "file: The file is saved as UTF-16"},
	{"UTF-16 without a byte-order mark", "p\x00e\x00r\x00s\x00o\x00n\x00\r\x00\n\x00", "file: The file looks like UTF-16"},
	{"binary junk", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "file: The header row contains characters that are not UTF-8 text"},
	{"control characters", "\x1b[31mperson_ref\r\n", "file: The header row contains an invisible control character (U+001B)"},
	{"empty", "", "file: The file is empty"},
	{"blank lines only", "\r\n\r\n\n", "file: The file is empty"},
	{"header only", csvHeader, ""},
	{"empty header column", "person_ref,,team,coordinator_email,start_date\r\n", "file: Column 2 of the header is empty"},
	{"unknown column", "person_ref,team,coordinator_email,start_date,shoe_size\r\n", "file: Column 5 of the header, \"shoe_size\""},
	{"old Mac line ends", "person_ref,team,coordinator_email,start_date\rR1,North Team,a@test.example,2026-01-02\r", "file: The file's lines end with a carriage return only"},
	{"a line that never ends", csvHeader + "R2," + strings.Repeat("x", maxRowBytes+10), "file: Line 2 is longer than 64 KiB"},
	{"a quote that never closes in a long file", csvHeader + "R2,\"" + strings.Repeat("North Team,a@test.example\r\n", 5000), "file: Line 2 starts a value in quotes"},
	{"invalid UTF-8", csvHeader + "R\xff2,North Team,a@test.example,2026-01-02,,1990\r\n", ""},
	{"not a year", csvHeader + "R2,North Team,a@test.example,2026-01-02,,nineteen\r\n", "2/birth_year: \"nineteen\" is not a year"},
}

func TestCaseloadCSVProblems(t *testing.T) {
	for _, tc := range malformedCSV {
		t.Run(tc.name, func(t *testing.T) {
			var rep ImportReport
			var lines []int
			err := readCSV(strings.NewReader(tc.data), &rep, func(e Episode, line int) (bool, error) {
				lines = append(lines, line)
				return true, nil
			})
			got := ""
			if err != nil {
				ae := app.As(err)
				if ae.Code != app.CodeInvalid || len(ae.Fields) != 1 {
					t.Fatalf("not a validation error: %v", err)
				}
				got = ae.Fields[0].Field + ": " + ae.Fields[0].Message
			} else if len(rep.Problems) > 0 {
				p := rep.Problems[0]
				got = strings.TrimSuffix(strings.Join([]string{strconv.Itoa(p.Row), p.Column}, "/"), "/") + ": " + p.Message
			}
			if !strings.HasPrefix(got, tc.want) || (tc.want == "" && got != "") {
				t.Fatalf("got %q\nwant it to start %q", got, tc.want)
			}
			checkCSVInvariants(t, []byte(tc.data), &rep, lines, err)
		})
	}
	// A good row after a broken one is still read, on its own line.
	var rep ImportReport
	var lines []int
	_ = readCSV(strings.NewReader(malformedByName("unclosed quote")), &rep, func(e Episode, line int) (bool, error) {
		lines = append(lines, line)
		return true, nil
	})
	// The unclosed quote swallows the row after it: encoding/csv cannot know
	// where the value was meant to end.
	if rep.Rows != 2 || rep.Valid != 1 || rep.Invalid != 1 || len(lines) != 1 || lines[0] != 2 {
		t.Errorf("after an unclosed quote at EOF: %+v, rows read on lines %v", rep, lines)
	}
	rep = ImportReport{}
	lines = nil
	_ = readCSV(strings.NewReader(malformedByName("bare quote")), &rep, func(e Episode, line int) (bool, error) {
		lines = append(lines, line)
		return true, nil
	})
	if len(lines) != 1 || lines[0] != 3 {
		t.Errorf("after a bare quote on line 2, rows read on lines %v, want [3]", lines)
	}
}

func malformedByName(name string) string {
	for _, tc := range malformedCSV {
		if tc.name == name {
			return tc.data
		}
	}
	panic("no malformed file " + name)
}

// checkCSVInvariants holds for any input: a validation error about the file
// or problems on lines of the file; every row counted once; rows given in
// order; every message short, readable text.
func checkCSVInvariants(t *testing.T, data []byte, rep *ImportReport, lines []int, err error) {
	t.Helper()
	if err != nil {
		ae := app.As(err)
		if ae.Code != app.CodeInvalid || len(ae.Fields) != 1 || ae.Fields[0].Field != "file" {
			t.Fatalf("reading failed with %v, want a validation error about the file", err)
		}
		checkMessage(t, ae.Fields[0].Message)
	}
	physical := bytes.Count(data, []byte("\n")) + 1
	if rep.Valid+rep.Invalid != rep.Rows {
		t.Fatalf("rows %d != valid %d + invalid %d", rep.Rows, rep.Valid, rep.Invalid)
	}
	if len(lines) > rep.Rows || len(rep.Problems)+rep.MoreProblems < rep.Rows-len(lines) {
		t.Fatalf("%d rows, %d given to the checker, %d problems", rep.Rows, len(lines), len(rep.Problems))
	}
	for i, l := range lines {
		if l < 2 || l > physical || (i > 0 && l <= lines[i-1]) {
			t.Fatalf("rows given on lines %v of %d", lines, physical)
		}
	}
	for _, p := range rep.Problems {
		if p.Row < 1 || p.Row > physical {
			t.Fatalf("problem on line %d of a %d-line file: %+v", p.Row, physical, p)
		}
		checkMessage(t, p.Message)
	}
}

func checkMessage(t *testing.T, msg string) {
	t.Helper()
	if msg == "" || !utf8.ValidString(msg) || len(msg) > 600 || app.UnstorableText(msg) != "" {
		t.Fatalf("unclear message %q", msg)
	}
}

// FuzzCaseloadCSV feeds the caseload file reader anything at all: it must
// never panic, and must always answer with problems on lines of the file or
// a validation error about the file. `go test` runs the seeds; `make fuzz`
// explores further.
func FuzzCaseloadCSV(f *testing.F) {
	f.Add([]byte(csvHeader + csvRow))
	f.Add([]byte(Template()))
	f.Add([]byte("\xef\xbb\xbf" + csvHeader + csvRow))
	f.Add([]byte("\xef\xbb\xbf\"person_ref\",\"team\",\"coordinator_email\",\"start_date\"\r\n\"R1\",\"North, Team\",\"a@test.example\",\"2026-01-02\"\r\n"))
	f.Add([]byte(csvHeader + "R1,\"multi\r\nline\",a@test.example,2026-01-02,,1990\r\n"))
	f.Add([]byte(csvHeader + "R1,\"say \"\"hi\"\"\",a@test.example,2026-01-02,,1990\r\n"))
	f.Add([]byte(csvHeader + "R1,North Team\x00,a@test.example,2026-01-02,,1990\r\n"))
	f.Add([]byte(csvHeader + "R1,\"North\"\r\"x\",a@test.example\r\n" + csvRow))
	for _, tc := range malformedCSV {
		if len(tc.data) < 4096 {
			f.Add([]byte(tc.data))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var rep ImportReport
		var lines []int
		err := readCSV(bytes.NewReader(data), &rep, func(e Episode, line int) (bool, error) {
			lines = append(lines, line)
			return len(lines)%2 == 0, nil
		})
		checkCSVInvariants(t, data, &rep, lines, err)
		// The same file reads the same way twice (the import's two passes).
		var again ImportReport
		n := 0
		err2 := readCSV(bytes.NewReader(data), &again, func(e Episode, line int) (bool, error) {
			n++
			return n%2 == 0, nil
		})
		if (err == nil) != (err2 == nil) || again.Rows != rep.Rows || again.Valid != rep.Valid || n != len(lines) {
			t.Fatalf("two reads differ: %+v %v / %+v %v", rep, err, again, err2)
		}
	})
}
