package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/caseload"
)

func cmdImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "caseload" {
		return errors.New("usage: mutual import caseload FILE.csv [--valid-rows-only]")
	}
	fs := newFlags("import caseload FILE.csv [--valid-rows-only]",
		"Import caseload episodes from a CSV file exported from the trust's electronic record. Every row is checked first; "+
			"a file with any problem imports nothing unless --valid-rows-only is given. Importing the same file again changes nothing.\n\n"+
			"Columns:\n"+columnHelp(), stderr)
	validOnly := fs.Bool("valid-rows-only", false, "import the valid rows even if some rows have problems")
	cfg, err := parseConfig(fs, args[1:], "database")
	if err != nil {
		return ignoreHelp(err)
	}
	if fs.NArg() != 1 {
		return errors.New("usage: mutual import caseload FILE.csv [--valid-rows-only]")
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer f.Close()
	db, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer sealAndClose(db, stderr)
	svc := newServices(cfg, db, app.SystemClock{})
	defer svc.Close()
	rep, err := svc.Caseloads.ImportCSV(ctx, app.Actor{RequestID: "cli", Role: app.RoleAdmin}, f, caseload.ImportOptions{ValidRowsOnly: *validOnly})
	if err != nil {
		return describe(err)
	}
	for _, p := range rep.Problems {
		col := ""
		if p.Column != "" {
			col = ", column " + p.Column
		}
		fmt.Fprintf(stdout, "line %d%s: %s\n", p.Row, col, p.Message)
	}
	if rep.MoreProblems > 0 {
		fmt.Fprintf(stdout, "…and %d more problems\n", rep.MoreProblems)
	}
	fmt.Fprintf(stdout, "%d rows: %d valid, %d with problems; %d new, %d updated, %d unchanged\n",
		rep.Rows, rep.Valid, rep.Invalid, rep.Inserted, rep.Updated, rep.Unchanged)
	if !rep.Imported {
		return errors.New("nothing was imported: correct the problems above, or use --valid-rows-only")
	}
	return nil
}

func columnHelp() string {
	var b strings.Builder
	for _, c := range caseload.Columns {
		req := "optional"
		if c.Required {
			req = "required"
		}
		fmt.Fprintf(&b, "  %-17s %s: %s\n", c.Name, req, c.Description)
	}
	return b.String()
}
