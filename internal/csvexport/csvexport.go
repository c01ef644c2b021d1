// Package csvexport is the one way Mutual writes CSV files for people to
// open in a spreadsheet. Every cell goes through Cell, which makes a value a
// spreadsheet would run as a formula (or a DDE command) into plain text, so
// a name or note typed by anyone cannot run code on the computer of the
// manager who opens an export. A test fails if encoding/csv's writer is
// used anywhere else.
package csvexport

import (
	"encoding/csv"
	"io"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Writer writes CSV records with every cell made safe by Cell, with CRLF
// line endings as spreadsheets expect.
type Writer struct {
	w   *csv.Writer
	buf []string
}

// NewWriter returns a Writer over w.
func NewWriter(w io.Writer) *Writer {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	return &Writer{w: cw}
}

// Write writes one record. The caller's slice is not changed.
func (w *Writer) Write(record []string) error {
	w.buf = w.buf[:0]
	for _, c := range record {
		w.buf = append(w.buf, Cell(c))
	}
	return w.w.Write(w.buf)
}

// Flush writes any buffered data and reports any error from writing.
func (w *Writer) Flush() error {
	w.w.Flush()
	return w.w.Error()
}

// Cell returns s as a spreadsheet will show it and never run it: a cell a
// spreadsheet would take as a formula gets a leading single quote.
//
// A spreadsheet skips leading spaces and invisible characters and reads
// full-width and other compatibility forms as the plain characters (＝ is
// =), so Cell looks at the first character that is left after skipping
// white space (any Unicode space, including no-break spaces), format
// characters (zero-width spaces and joiners, the byte-order mark, soft
// hyphens, direction marks) and control characters, folded by NFKC. If that
// is = + - @ | or %, or the cell starts with a tab or carriage return, the
// cell is a possible formula. Plain numbers such as -12 or -3.5% are left
// as they are so they stay numbers.
func Cell(s string) string {
	if s == "" {
		return s
	}
	if s[0] == '\t' || s[0] == '\r' {
		return "'" + s
	}
	rest := s
	for rest != "" {
		r, size := utf8.DecodeRuneInString(rest)
		if !invisible(r) {
			break
		}
		rest = rest[size:]
	}
	if rest == "" {
		return s
	}
	// Fold only the start: NFKC of a few runes is enough to know the first
	// character (a compatibility form decomposes into at most a few).
	head := rest
	if len(head) > 16 {
		head = head[:16]
		for !utf8.ValidString(head) && len(head) > 0 {
			head = head[:len(head)-1]
		}
	}
	folded := norm.NFKC.String(head)
	for folded != "" {
		r, size := utf8.DecodeRuneInString(folded)
		if !invisible(r) {
			break
		}
		folded = folded[size:]
	}
	if folded == "" {
		return s
	}
	switch folded[0] {
	case '=', '+', '-', '@', '|', '%', '\t', '\r':
		if plainNumber(s) {
			return s
		}
		return "'" + s
	}
	return s
}

// invisible reports whether a spreadsheet would pass over r at the start of
// a cell: white space, control and format characters.
func invisible(r rune) bool {
	return unicode.IsSpace(r) || unicode.Is(unicode.Zs, r) || unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Cc, r) ||
		r == utf8.RuneError || r == '\u180e' || r == '\u3164' || r == '\uffa0' || r == '\u115f' || r == '\u1160'
}

// plainNumber reports whether s is exactly a negative number in plain ASCII
// digits, optionally with a decimal part and a trailing percent sign:
// -12, -0.5, -3.5%. Nothing else starting with - is left alone.
func plainNumber(s string) bool {
	if len(s) < 2 || s[0] != '-' {
		return false
	}
	s = s[1:]
	if s[len(s)-1] == '%' {
		s = s[:len(s)-1]
	}
	digits, dot := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !dot && digits > 0 && i < len(s)-1:
			dot = true
		default:
			return false
		}
	}
	return digits > 0
}
