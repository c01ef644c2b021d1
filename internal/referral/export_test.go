package referral

import (
	"context"

	"github.com/mutualhq/mutual/internal/app"
)

// PeopleInScope lists, for a test, the ids of the people the caller may
// see, by the person-by-person scope and by the search scope.
func (s *Service) PeopleInScope(ctx context.Context, p *app.Principal) (byPerson, bySet []int64, err error) {
	list := func(sc sqlScope) ([]int64, error) {
		rows, err := s.DB.Query(ctx, "SELECT pe.id FROM people pe WHERE "+sc.where()+" ORDER BY pe.id", sc.args...)
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
	if byPerson, err = list(personScope(p, 1)); err != nil {
		return nil, nil, err
	}
	bySet, err = list(personSearchScope(p, 1))
	return byPerson, bySet, err
}
