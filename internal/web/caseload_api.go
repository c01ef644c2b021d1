package web

import (
	"net/http"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/caseload"
)

var opImportEpisodes = APIOp{Summary: "Import caseload episodes (batch of up to 5,000)", Tag: "Insight", Status: http.StatusOK,
	Description: "Every row is checked first; with any problem nothing is stored (imported: false, problems listed by row and column) unless valid_rows_only is true. Re-sending the same rows changes nothing.",
	Request: EpisodesRequest{Episodes: []caseload.Episode{{PersonRef: "RX1234567", Team: "North Community Mental Health Team", CoordinatorEmail: "priya.shah@example.nhs.uk",
		StartDate: "2026-01-15", BirthYear: 1988, Gender: "woman", Ethnicity: "black_caribbean", Disability: "no", FirstLanguage: "English"}}},
	Response: caseload.ImportReport{Rows: 1, Valid: 1, Inserted: 1, Imported: true, Problems: []caseload.RowProblem{}}}

// EpisodesRequest is POST /api/v1/caseload-episodes.
type EpisodesRequest struct {
	Episodes      []caseload.Episode `json:"episodes" required:"true"`
	ValidRowsOnly bool               `json:"valid_rows_only,omitempty" doc:"Import the valid rows even if some rows have problems."`
}

func (s *Server) apiImportEpisodes(w http.ResponseWriter, r *http.Request) error {
	var in EpisodesRequest
	if err := decodeJSONLimit(r, &in, 4<<20); err != nil {
		return err
	}
	rep, err := s.caseloads.ImportEpisodes(r.Context(), principal(r).ActorFor(app.PermCaseloadImport), in.Episodes, caseload.ImportOptions{ValidRowsOnly: in.ValidRowsOnly})
	if err != nil {
		return err
	}
	if rep.Problems == nil {
		rep.Problems = []caseload.RowProblem{}
	}
	// A checked batch is answered 200 either way: imported says whether it
	// was stored, and problems say what to correct.
	return writeJSON(w, http.StatusOK, rep)
}
