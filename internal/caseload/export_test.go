package caseload

// MalformedFile is one of malformedCSV, for the tests in package
// caseload_test.
type MalformedFile struct{ Name, Data string }

// MalformedCSV are malformedCSV's files.
var MalformedCSV = func() []MalformedFile {
	out := make([]MalformedFile, len(malformedCSV))
	for i, m := range malformedCSV {
		out[i] = MalformedFile{m.name, m.data}
	}
	return out
}()

const (
	CSVHeader = csvHeader
	CSVRow    = csvRow
)

// ImportedTables are the tables whose statistics an import refreshes.
var ImportedTables = importedTables
