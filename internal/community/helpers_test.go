package community_test

import (
	"encoding/json"

	"github.com/mutualhq/mutual/internal/account"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

func accountUser(email string) account.NewUser {
	return account.NewUser{Email: email, Name: "Second Moderator", Memberships: []app.Membership{{Role: app.RoleModerator}}, Password: testkit.Password}
}

func jsonOf(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}
