package caseload

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/mutualhq/mutual/internal/app"
)

// Reading a caseload file never trusts its shape: every malformed file
// (an unclosed or stray quote, a wrong number of values, a byte-order mark,
// UTF-16, binary junk, an empty file, a header alone, a line that never
// ends) is either a problem reported against its line or, when the file
// cannot be read past a point, a validation error that names the line. The
// reader only ever looks at what encoding/csv returned without an error.

// maxRowBytes bounds one row of a caseload file. A real row is a few
// hundred bytes; a longer one means a quote that is never closed or a file
// that is not a caseload file, and reading on would hold the rest of the
// file in memory as one value.
const maxRowBytes = 64 << 10

// readCSV reads a caseload file: the header row, then each row. Rows that
// cannot be read are counted in rep as invalid, with a problem naming the
// line; each row that can is given to fn with its line number, and counted
// valid or invalid as fn says. It returns nil at the end of the file, a
// validation error (field "file") when the file cannot be read as a
// caseload file at all, or fn's or the reader's error.
func readCSV(src io.Reader, rep *ImportReport, fn func(e Episode, line int) (valid bool, err error)) error {
	lim := &rowLimiter{r: src, line: 1, rowStart: 1}
	br := bufio.NewReader(lim)
	if err := skipBOM(br); err != nil {
		return err
	}
	cr := csv.NewReader(br)
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1
	index, err := readHeader(cr)
	if err != nil {
		return err
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		var long *rowTooLong
		var pe *csv.ParseError
		switch {
		case errors.As(err, &long):
			return fileProblem(long.Error())
		case errors.As(err, &pe):
			rep.Rows++
			rep.Invalid++
			rep.problem(pe.StartLine, "", csvProblem(pe, lim.unclosedAtEnd(pe)))
			continue
		case err != nil:
			return err
		}
		// A record read without an error has at least one field.
		line, _ := cr.FieldPos(0)
		rep.Rows++
		e, ok := rowEpisode(rec, index, line, rep)
		if !ok {
			rep.Invalid++
			continue
		}
		valid, err := fn(e, line)
		if err != nil {
			return err
		}
		if valid {
			rep.Valid++
		} else {
			rep.Invalid++
		}
	}
}

func fileProblem(msg string) error {
	return app.Invalid(app.FieldError{Field: "file", Message: msg})
}

// skipBOM drops a UTF-8 byte-order mark (Excel's "CSV UTF-8" writes one)
// and refuses UTF-16, which Excel writes as "Unicode text".
func skipBOM(br *bufio.Reader) error {
	b, _ := br.Peek(3)
	switch {
	case bytes.HasPrefix(b, []byte("\xef\xbb\xbf")):
		_, _ = br.Discard(3)
	case bytes.HasPrefix(b, []byte("\xff\xfe")), bytes.HasPrefix(b, []byte("\xfe\xff")):
		return fileProblem("The file is saved as UTF-16 (\"Unicode text\"): save it from your spreadsheet as \"CSV UTF-8 (comma delimited)\" and upload that")
	}
	return nil
}

// readHeader reads the header row and maps each column name to its
// position.
func readHeader(cr *csv.Reader) (map[string]int, error) {
	header, err := cr.Read()
	var long *rowTooLong
	var pe *csv.ParseError
	switch {
	case errors.Is(err, io.EOF):
		return nil, fileProblem("The file is empty: it needs a header row and at least one row")
	case errors.As(err, &long):
		return nil, fileProblem(long.Error() + ". Is this the caseload file?")
	case errors.As(err, &pe):
		return nil, fileProblem(fmt.Sprintf("The header row is not valid CSV: line %d: %s", pe.StartLine, csvProblem(pe, false)))
	case err != nil:
		return nil, err
	}
	joined := strings.Join(header, ",")
	switch {
	case strings.Contains(joined, "\x00"):
		return nil, fileProblem("The file looks like UTF-16 or is not a text file: save it from your spreadsheet as \"CSV UTF-8 (comma delimited)\" and upload that")
	case strings.Contains(joined, "\r"):
		return nil, fileProblem("The file's lines end with a carriage return only (an old Mac format): save it from your spreadsheet as \"CSV UTF-8 (comma delimited)\" and upload that")
	case app.UnstorableText(joined) != "":
		return nil, fileProblem("The header row contains " + app.UnstorableText(joined) + ": this is not a CSV text file. Save it from your spreadsheet as \"CSV UTF-8 (comma delimited)\" and upload that")
	}
	known := map[string]bool{}
	for _, col := range Columns {
		known[col.Name] = true
	}
	index := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		switch {
		case h == "":
			return nil, fileProblem(fmt.Sprintf("Column %d of the header is empty: every column needs a name from the template", i+1))
		case !known[h]:
			return nil, fileProblem(fmt.Sprintf("Column %d of the header, %s, is not a caseload column. Use the template's column names.", i+1, shown(h)))
		}
		if _, dup := index[h]; dup {
			return nil, fileProblem(fmt.Sprintf("The header names %q twice", h))
		}
		index[h] = i
	}
	for _, col := range Columns {
		if _, ok := index[col.Name]; col.Required && !ok {
			return nil, fileProblem(fmt.Sprintf("The header has no %q column, which is required", col.Name))
		}
	}
	return index, nil
}

// rowEpisode turns one record into an episode, or adds the problem that
// stops it and returns false.
func rowEpisode(rec []string, index map[string]int, line int, rep *ImportReport) (Episode, bool) {
	if len(rec) != len(index) {
		rep.problem(line, "", fmt.Sprintf("this line has %d values but the header has %d columns: check for a missing or extra comma, "+
			"or a value with a comma in it that is not in quotes", len(rec), len(index)))
		return Episode{}, false
	}
	get := func(name string) string {
		if i, ok := index[name]; ok {
			return rec[i]
		}
		return ""
	}
	e := Episode{PersonRef: get("person_ref"), Team: get("team"), CoordinatorEmail: get("coordinator_email"),
		StartDate: get("start_date"), EndDate: get("end_date"), Gender: get("gender"), Ethnicity: get("ethnicity"),
		Disability: get("disability"), FirstLanguage: get("first_language"), Setting: get("setting"), PreferredName: get("preferred_name")}
	if by := strings.TrimSpace(get("birth_year")); by != "" {
		n, err := strconv.Atoi(by)
		if err != nil {
			rep.problem(line, "birth_year", fmt.Sprintf("%s is not a year", shown(by)))
			return e, false
		}
		e.BirthYear = n
	}
	return e, true
}

// csvProblem says in plain words what is wrong with a line. unclosed is
// set when a quote is still open at the end of the file.
func csvProblem(pe *csv.ParseError, unclosed bool) string {
	switch {
	case errors.Is(pe.Err, csv.ErrQuote) && unclosed:
		return fmt.Sprintf("a value in quotes (\") starting on this line is never closed, so everything after it, to the end of the file (line %d), "+
			"was read as one value: close the quote, or double any quote inside a value (\"\")", pe.Line)
	case errors.Is(pe.Err, csv.ErrBareQuote):
		return fmt.Sprintf("there is a quote (\") inside a value, at character %d: put the whole value in quotes and double the quote inside it (\"\"), or remove it", pe.Column)
	case errors.Is(pe.Err, csv.ErrQuote):
		msg := fmt.Sprintf("a value in quotes (\") is not closed properly (line %d, character %d): a value that starts with a quote must end with one, "+
			"followed by a comma or the end of the line, and a quote inside it must be doubled (\"\")", pe.Line, pe.Column)
		if pe.Line > pe.StartLine {
			msg += fmt.Sprintf("; the quote opened on line %d runs on to line %d", pe.StartLine, pe.Line)
		}
		return msg
	}
	return "this line is not valid CSV: " + pe.Err.Error()
}

// shown quotes a value from a file for a message, cut short if it is long.
func shown(s string) string {
	if utf8.RuneCountInString(s) > 40 {
		r := []rune(s)
		return strconv.Quote(string(r[:40])) + "…"
	}
	return strconv.Quote(s)
}

// rowTooLong is the error for a row longer than maxRowBytes.
type rowTooLong struct {
	line   int
	quoted bool
}

func (e *rowTooLong) Error() string {
	if e.quoted {
		return fmt.Sprintf("Line %d starts a value in quotes (\") that is still not closed after %d KiB: close the quote, or double any quote inside a value (\"\")",
			e.line, maxRowBytes>>10)
	}
	return fmt.Sprintf("Line %d is longer than %d KiB", e.line, maxRowBytes>>10)
}

// rowLimiter passes the file through, following CSV's quoting as
// encoding/csv does (without LazyQuotes), and fails with rowTooLong as soon
// as one row passes maxRowBytes, so a quote that is never closed or a file
// with no line breaks cannot be read into memory whole.
type rowLimiter struct {
	r        io.Reader
	state    csvState
	line     int // the physical line being read
	rowStart int // the line the current row began on
	rowBytes int
	err      error
	eof      bool
	lastLine int // the last line with anything on it
}

// unclosedAtEnd reports whether pe is a quote left open at the end of the
// file, rather than a mistake after a closing quote.
func (l *rowLimiter) unclosedAtEnd(pe *csv.ParseError) bool {
	return l.eof && l.state == inQuoted && errors.Is(pe.Err, csv.ErrQuote) && pe.Line == l.lastLine
}

type csvState int

const (
	atFieldStart csvState = iota
	inUnquoted
	inQuoted
	quoteInQuoted // a quote inside a quoted value: the end, or the first of ""
	quoteThenCR   // the end of a quoted value followed by \r: only \n may follow
	toLineEnd     // after a quoting mistake encoding/csv skips to the end of the line
)

func (l *rowLimiter) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	n, err := l.r.Read(p)
	for i, c := range p[:n] {
		l.rowBytes++
		if l.rowBytes > maxRowBytes {
			l.err = &rowTooLong{line: l.rowStart, quoted: l.state == inQuoted}
			return i, l.err
		}
		rowEnds := false
		switch l.state {
		case atFieldStart:
			switch c {
			case '"':
				l.state = inQuoted
			case ',':
			case '\n':
				rowEnds = true
			default:
				l.state = inUnquoted
			}
		case inUnquoted:
			switch c {
			case ',':
				l.state = atFieldStart
			case '\n':
				rowEnds = true
			case '"':
				l.state = toLineEnd
			}
		case inQuoted:
			if c == '"' {
				l.state = quoteInQuoted
			}
		case quoteInQuoted:
			switch c {
			case '"':
				l.state = inQuoted
			case ',':
				l.state = atFieldStart
			case '\n':
				rowEnds = true
			case '\r':
				l.state = quoteThenCR
			default:
				l.state = toLineEnd
			}
		case quoteThenCR:
			if c == '\n' {
				rowEnds = true
			} else {
				l.state = toLineEnd
			}
		case toLineEnd:
			rowEnds = c == '\n'
		}
		if c == '\n' {
			l.line++
		} else {
			l.lastLine = l.line
		}
		if rowEnds {
			l.state, l.rowStart, l.rowBytes = atFieldStart, l.line, 0
		}
	}
	if err == io.EOF {
		l.eof = true
	}
	return n, err
}
