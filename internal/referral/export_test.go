package referral

import (
	"context"

	"github.com/mutualhq/mutual/internal/access"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/store"
)

// PeopleInScope lists, for a test, the ids of the people the caller may
// see, by the person-by-person scope and by the search scope.
func (s *Service) PeopleInScope(ctx context.Context, p *app.Principal) (byPerson, bySet []int64, err error) {
	list := func(scope func(*app.Principal, *store.Args) string) ([]int64, error) {
		a := &store.Args{}
		rows, err := s.DB.Query(ctx, "SELECT pe.id FROM people pe WHERE "+scope(p, a)+" ORDER BY pe.id", a.Values()...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return nil, err
			}
			ids = append(ids, id)
		}
		return ids, rows.Err()
	}
	if byPerson, err = list(access.People); err != nil {
		return nil, nil, err
	}
	bySet, err = list(access.PeopleSet)
	return byPerson, bySet, err
}
