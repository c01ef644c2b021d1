package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/account"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/caseload"
	"github.com/mutualhq/mutual/internal/web/ui"
)

// caseloadRoutes are caseloads from the trust's record: one line per route.
func (s *Server) caseloadRoutes() []*Route {
	return []*Route{
		pageRoute("GET /caseloads", app.PermCaseloadImport, s.handleCaseloadForm),
		pageRoute("GET /caseloads/template.csv", app.PermCaseloadImport, s.handleCaseloadTemplate),
		pageRoute("POST /caseloads", app.PermCaseloadImport, s.handleCaseloadUpload),
		apiRoute("POST /api/v1/caseload-episodes", app.PermCaseloadImport, opImportEpisodes, s.apiImportEpisodes),
	}
}

type caseloadData struct {
	Columns []caseload.Column
	Report  *caseload.ImportReport
	Teams   []account.Team
}

func (s *Server) handleCaseloadForm(w http.ResponseWriter, r *http.Request) error {
	teams, err := s.accounts.ListTeams(r.Context())
	if err != nil {
		return err
	}
	return s.page(w, r, http.StatusOK, "caseload/upload", &ui.Page{Title: "Upload caseloads", Form: ui.NewForm(nil),
		Data: caseloadData{Columns: caseload.Columns, Teams: teams}})
}

func (s *Server) handleCaseloadTemplate(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="mutual-caseload-template.csv"`)
	_, err := w.Write([]byte(caseload.Template()))
	return err
}

func (s *Server) handleCaseloadUpload(w http.ResponseWriter, r *http.Request) error {
	// A large file takes a while to read and import: give this request
	// longer than the server's default deadlines.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(10 * time.Minute))
	_ = rc.SetWriteDeadline(time.Now().Add(20 * time.Minute))
	teams, err := s.accounts.ListTeams(r.Context())
	if err != nil {
		return err
	}
	d := caseloadData{Columns: caseload.Columns, Teams: teams}
	f := ui.NewForm(nil)
	show := func(status int) error {
		return s.page(w, r, status, "caseload/upload", &ui.Page{Title: "Upload caseloads", Form: f, Data: d})
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxUpload)
	if err := r.ParseMultipartForm(8 << 20); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			f.AddError("file", "The file is larger than 256 MB. Split it into smaller files and upload each.")
			return show(http.StatusRequestEntityTooLarge)
		}
		f.AddError("file", "Choose a CSV file to upload")
		return show(http.StatusUnprocessableEntity)
	}
	defer r.MultipartForm.RemoveAll()
	if err := checkValues(r.MultipartForm.Value, "form"); err != nil {
		return err
	}
	f.Values = url.Values(r.MultipartForm.Value)
	file, hdr, err := r.FormFile("file")
	if err != nil {
		f.AddError("file", "Choose a CSV file to upload")
		return show(http.StatusUnprocessableEntity)
	}
	defer file.Close()
	if !strings.HasSuffix(strings.ToLower(hdr.Filename), ".csv") {
		f.AddError("file", "The file must be a CSV file (ending .csv). Save it from your spreadsheet as CSV UTF-8.")
		return show(http.StatusUnprocessableEntity)
	}
	rep, err := s.caseloads.ImportCSV(r.Context(), principal(r).ActorFor(app.PermCaseloadImport), file, caseload.ImportOptions{ValidRowsOnly: checked(f, "valid_rows_only")})
	if err != nil {
		if !formWithErrors(f, err) {
			return err
		}
		return show(http.StatusUnprocessableEntity)
	}
	d.Report = &rep
	status := http.StatusOK
	if !rep.Imported {
		status = http.StatusUnprocessableEntity
		f.AddError("file", fmt.Sprintf("The file has %s, so nothing was imported. Correct them and upload it again, or choose to import only the valid rows.",
			plural(rep.Invalid, "row with problems", "rows with problems")))
	}
	return show(status)
}
