package main

import (
	"context"
	"errors"
	"io"
)

func cmdImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("usage: mutual import caseload FILE.csv")
}
