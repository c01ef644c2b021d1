package community

import (
	"time"

	"github.com/mutualhq/mutual/internal/alert"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/notify"
	"github.com/mutualhq/mutual/internal/ratelimit"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/watch"
)

// Service runs the community.
type Service struct {
	DB    *store.DB
	Clock app.Clock
	// Audit records moderators' reads of who is behind a display name.
	Audit *audit.Log
	// Watch checks every post against the watched words.
	Watch *watch.Service
	// Alerts tells a member's own care team, with their consent.
	Alerts *alert.Service
	// Notify tells writers and flaggers what moderators decided.
	Notify *notify.Service
	// Limits counts each member's topics and replies a day.
	Limits *ratelimit.Counters
	// Referrals takes a member's "I'd like 1:1 peer support".
	Referrals *referral.Service
}

// Space is a place for topics, and who it is for.
type Space struct {
	ID             int64  `json:"id"`
	Name           string `json:"name" required:"true"`
	Description    string `json:"description,omitempty"`
	ForPeople      bool   `json:"for_people,omitempty" doc:"People who use services may join."`
	ForCarers      bool   `json:"for_carers,omitempty" doc:"Carers may join."`
	ForStaff       bool   `json:"for_staff,omitempty" doc:"Staff may join."`
	ForPublic      bool   `json:"for_public,omitempty" doc:"Anyone with an account may join."`
	InvitationOnly bool   `json:"invitation_only,omitempty" doc:"Only those invited (and moderators) see the space at all."`
	Topics         int    `json:"topics"`
	// Duty: whether a moderator is on duty now; given with a space's
	// topics only.
	Duty *Duty `json:"duty,omitempty" doc:"Whether a moderator is on duty now, and when one next is (with a space's topics)."`
}

// Member is someone taking part, as they see themselves.
type Member struct {
	UserID          int64     `json:"-"`
	DisplayName     string    `json:"display_name"`
	TrustLevel      int       `json:"trust_level" doc:"0 new member (posts held for a moderator, 3 topics and 10 replies a day, no links), 1 member, 2 trusted member."`
	CareTeamConsent bool      `json:"care_team_consent" doc:"If moderators are worried about you, they may tell your own care team (through your open referral). Without it, they follow up with you here."`
	JoinedAt        time.Time `json:"joined_at"`
	Version         int       `json:"version"`
}

// Settings is what a member chooses: their display name and whether
// moderators may tell their care team when worried about them.
type Settings struct {
	DisplayName     string `json:"display_name" required:"true" doc:"The name others see. Not your real name."`
	CareTeamConsent bool   `json:"care_team_consent,omitempty"`
}

// Topic is a conversation in a space.
type Topic struct {
	ID         int64     `json:"id"`
	SpaceID    int64     `json:"space_id"`
	SpaceName  string    `json:"space_name"`
	Title      string    `json:"title"`
	Author     string    `json:"author"`
	Status     string    `json:"status" doc:"visible, held (waiting for a moderator; only its writer and moderators see it) or hidden"`
	Replies    int       `json:"replies"`
	Tags       []string  `json:"tags"`
	CreatedAt  time.Time `json:"created_at"`
	LastPostAt time.Time `json:"last_post_at"`
}

// Reaction kinds: supportive, never scores.
var Reactions = []app.Choice{
	{Code: "me_too", Label: "Me too"},
	{Code: "thank_you", Label: "Thank you"},
	{Code: "strength", Label: "Sending strength"},
}

// Reaction is how many gave one reaction to a post, and whether the reader
// did.
type Reaction struct {
	Kind  string `json:"kind"`
	Label string `json:"label"`
	Count int    `json:"count"`
	Mine  bool   `json:"mine"`
}

// Post is one post in a topic, as its reader may see it.
type Post struct {
	ID      int64  `json:"id"`
	TopicID int64  `json:"topic_id"`
	Opening bool   `json:"opening"`
	Author  string `json:"author" doc:"The writer's display name."`
	// AuthorRole is the role a member of staff posted under.
	AuthorRole string     `json:"author_role,omitempty"`
	Body       string     `json:"body"`
	Status     string     `json:"status" doc:"visible, held (only its writer and moderators see it) or hidden (its words shown only to its writer and moderators)"`
	Mine       bool       `json:"mine"`
	CreatedAt  time.Time  `json:"created_at"`
	Reason     string     `json:"reason,omitempty" doc:"Why a moderator hid it: shown to its writer and moderators."`
	Reactions  []Reaction `json:"reactions"`
	authorID   int64
}

// TopicPage is a topic with its posts.
type TopicPage struct {
	Topic     Topic  `json:"topic"`
	Posts     []Post `json:"posts"`
	Member    bool   `json:"member" doc:"The reader has joined and may reply."`
	CanReply  bool   `json:"can_reply"`
	Following bool   `json:"following" doc:"The reader is told of new replies."`
	// Total is how many posts the reader may see in the topic; Posts are
	// Total's posts from Offset (a page of them, oldest first).
	Total  int `json:"total" doc:"How many posts there are that the reader may see; posts is a page of them from offset, oldest first."`
	Offset int `json:"offset"`
}

// NewTopic starts a topic.
type NewTopic struct {
	Title string `json:"title" required:"true"`
	Body  string `json:"body" required:"true"`
	Tags  string `json:"tags,omitempty" doc:"Up to 5 tags, separated by commas, e.g. \"sleep, hearing voices\"."`
}

// NewPost is a reply.
type NewPost struct {
	Body string `json:"body" required:"true"`
}

// Posted is what happened to a new post.
type Posted struct {
	Topic Topic `json:"topic"`
	Post  Post  `json:"post"`
	// Held: the post waits for a moderator.
	Held bool `json:"held"`
	// HelpNow: the writer should be shown where to get help now.
	HelpNow bool `json:"help_now" doc:"What was written may mean the writer needs help now: show them the crisis numbers (NHS 111 option 2, Samaritans 116 123, Shout 85258, 999)."`
	// Replaced: identifying details were hidden.
	Replaced bool `json:"replaced"`
}

// Flag kinds members choose from; the system adds risk and held.
var FlagKinds = []app.Choice{
	{Code: "worried", Label: "I'm worried about someone"},
	{Code: "unkind", Label: "It's unkind"},
	{Code: "identifies", Label: "It identifies someone"},
	{Code: "spam", Label: "It's spam"},
	{Code: "other", Label: "Something else"},
}

var systemFlags = []app.Choice{
	{Code: "risk", Label: "Watched words about risk"},
	{Code: "held", Label: "Waiting for a moderator"},
}

// FlagLabel is a flag kind in words.
func FlagLabel(kind string) string {
	if app.HasChoice(FlagKinds, kind) {
		return app.ChoiceLabel(FlagKinds, kind)
	}
	return app.ChoiceLabel(systemFlags, kind)
}

// NewFlag is a member's flag on a post.
type NewFlag struct {
	Kind string `json:"kind" required:"true" doc:"worried, unkind, identifies, spam or other"`
	Note string `json:"note,omitempty" doc:"Anything the moderators should know. Only moderators read it."`
}

// Flag is one reason a post is in the moderators' queue.
type Flag struct {
	ID         int64      `json:"id"`
	Kind       string     `json:"kind"`
	Label      string     `json:"label"`
	Note       string     `json:"note,omitempty"`
	FlaggedBy  string     `json:"flagged_by,omitempty" doc:"The flagger's display name; empty when Mutual raised it."`
	CreatedAt  time.Time  `json:"created_at"`
	ResolvedAt *time.Time `json:"resolved_at,omitempty"`
	Outcome    string     `json:"outcome,omitempty"`
}

// QueueItem is a post waiting for a moderator, with why.
type QueueItem struct {
	Post       Post   `json:"post"`
	TopicTitle string `json:"topic_title"`
	SpaceName  string `json:"space_name"`
	Flags      []Flag `json:"flags"`
	// Risk: risk language or a member worried about someone; first in the queue.
	Risk        bool      `json:"risk"`
	WaitingFrom time.Time `json:"waiting_from"`
	TrustLevel  int       `json:"trust_level" doc:"The writer's trust level."`
}

// Item is one post in the moderators' view: the post, its topic around it,
// every flag it has had and any escalations.
type Item struct {
	QueueItem
	Context     []Post       `json:"context" doc:"The topic's posts, oldest first."`
	History     []Flag       `json:"history" doc:"Flags already resolved."`
	Escalations []Escalation `json:"escalations"`
	// Safeguarding: concerns raised without the writer's agreement, and
	// what a peer lead or clinician of their team decided.
	Safeguarding []Safeguarding `json:"safeguarding"`
	// Sanctions: the writer's sanctions, newest first.
	Sanctions []Sanction `json:"sanctions"`
	WriterID  int64      `json:"writer_id" doc:"The writer's member id (for trust levels and their identity)."`
	Consent   bool       `json:"care_team_consent" doc:"The writer agreed that moderators may tell their care team."`
}

// Decision is a moderator's decision on a post in the queue.
type Decision struct {
	Action string `json:"action" required:"true" doc:"approve (others see it; flags closed) or hide (a reason is needed; its writer is told why)"`
	Reason string `json:"reason,omitempty" doc:"Why: needed to hide. The writer and anyone who flagged it are told the outcome."`
}

// Escalation is a moderator's concern for the writer of a post.
type Escalation struct {
	ID     int64     `json:"id"`
	Route  string    `json:"route" doc:"care_team: the writer agreed and their care team's duty leads were alerted; moderators: without consent (or no open referral), moderators follow up in the space."`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
	By     string    `json:"by"`
}

// NewEscalation is what a moderator records when worried about a writer.
type NewEscalation struct {
	Reason string `json:"reason" required:"true" doc:"What worries you. Kept in the community; the care team is told only that there is a concern, with a link."`
}

// TrustChange is a moderator's change of a member's trust level.
type TrustChange struct {
	Level  int    `json:"level" doc:"0 new member, 1 member, 2 trusted member"`
	Reason string `json:"reason" required:"true"`
}

// Identity is who is behind a display name: for moderators only, audited.
type Identity struct {
	DisplayName string `json:"display_name"`
	Name        string `json:"name"`
	Email       string `json:"email"`
	TrustLevel  int    `json:"trust_level"`
	// HasRecord: the account is joined to a person's record with the
	// service. A moderator needs to know only that (whether their care
	// team could be told), never the record's id, which would reach the
	// person's record beyond the community.
	HasRecord bool `json:"has_record" doc:"The member has a record with the service."`
	// PersonID is the record, for the audit trail only.
	PersonID int64 `json:"-"`
}
