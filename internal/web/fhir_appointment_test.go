package web_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/testenv/fhirschema"
	"github.com/mutualhq/mutual/internal/testenv/webtest"
)

// Appointments as FHIR R4 Appointment resources, one and searched by
// patient, valid against the R4 schema: a proposal the person has yet to
// answer, then accepted; nobody else reads one (404 as an
// OperationOutcome, an empty search), and a canary in the place never
// leaks.
func TestFHIRAppointments(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		pid := supportedPerson(t, e)
		d := e.Clock.Now().In(app.London).AddDate(0, 0, 2)
		at := time.Date(d.Year(), d.Month(), d.Day(), 11, 0, 0, 0, app.London)
		worker := e.Bearer(t, "worker")
		r := worker.JSON(http.MethodPost, "/api/v1/appointments", map[string]any{"person_id": pid, "start": at, "minutes": 45, "place": "community",
			"place_detail": "FHIR-CANARY café"})
		want(t, r, http.StatusCreated)
		id := strings.TrimPrefix(r.Header.Get("Location"), "/api/v1/appointments/")
		one := "/fhir/R4/Appointment/" + id
		search := "/fhir/R4/Appointment?patient=Patient/" + strconv.FormatInt(pid, 10)

		got := worker.Get(one)
		if got.StatusCode != http.StatusOK || !strings.HasPrefix(got.Header.Get("Content-Type"), "application/fhir+json") {
			t.Fatalf("%s: %d %s", one, got.StatusCode, got.Header.Get("Content-Type"))
		}
		fhirschema.Validate(t, "Appointment", []byte(got.Body))
		for _, want := range []string{`"status": "proposed"`, `"minutesDuration": 45`, `"reference": "Patient/` + strconv.FormatInt(pid, 10),
			`"status": "needs-action"`, `"reference": "Practitioner/`, `"start": "` + at.UTC().Format("2006-01-02T15:04:05Z")} {
			if !strings.Contains(got.Body, want) {
				t.Errorf("the appointment lacks %s:\n%s", want, got.Body)
			}
		}
		want(t, e.Bearer(t, "person").JSON(http.MethodPost, "/api/v1/appointments/"+id+"/transitions", map[string]any{"to": "booked", "version": 1}), http.StatusOK)
		found := e.As(t, "lead").Get(search)
		fhirschema.Validate(t, "Bundle", []byte(found.Body))
		if found.StatusCode != http.StatusOK || !strings.Contains(found.Body, `"status": "booked"`) || !strings.Contains(found.Body, `"total": 1`) ||
			strings.Contains(found.Body, "needs-action") {
			t.Fatalf("the lead's search: %d %s", found.StatusCode, found.Body)
		}
		for _, who := range []string{"person2", "workerB", "leadB", "clinician"} {
			c := e.As(t, who)
			r := c.Get(one)
			if r.StatusCode != http.StatusNotFound && r.StatusCode != http.StatusForbidden {
				t.Errorf("%s reads the appointment: %d", who, r.StatusCode)
			}
			fhirschema.Validate(t, "OperationOutcome", []byte(r.Body))
			if s := c.Get(search); strings.Contains(s.Body, "FHIR-CANARY") || strings.Contains(r.Body, "FHIR-CANARY") || strings.Contains(s.Body, `"resourceType": "Appointment"`) {
				t.Errorf("%s finds the appointment: %s", who, s.Body)
			}
		}
	})
}
