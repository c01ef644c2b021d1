package web

import (
	"cmp"
	"net/http"
	"slices"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/community"
)

// SpaceList is GET /api/v1/spaces.
type SpaceList struct {
	Spaces []community.Space `json:"spaces"`
}

// TopicList is GET /api/v1/spaces/{id}/topics.
type TopicList struct {
	Space  community.Space   `json:"space"`
	Topics []community.Topic `json:"topics"`
}

// PostedAnswer is what a new topic or reply gives back.
type PostedAnswer struct {
	community.Posted
	Help *HelpNow `json:"help,omitempty" doc:"Present when the writer should be shown where to get help now."`
}

// ModerationQueue is GET /api/v1/moderation/queue.
type ModerationQueue struct {
	Items []community.QueueItem `json:"items"`
}

// CommunityMe is GET /api/v1/community/settings: whether the caller has
// joined, and their membership if so.
type CommunityMe struct {
	Joined bool              `json:"joined"`
	Member *community.Member `json:"member,omitempty"`
}

// ReactionRequest is POST /api/v1/posts/{id}/reactions.
type ReactionRequest struct {
	Kind string `json:"kind" required:"true" doc:"me_too, thank_you or strength. Giving a reaction you already gave takes it back."`
}

var (
	exampleSpace = community.Space{ID: 2, Name: "Living with voices", Description: "For people who hear voices, and those who support them.",
		ForPeople: true, ForCarers: true, Topics: 12}
	exampleTopic = community.Topic{ID: 31, SpaceID: 2, SpaceName: "Living with voices", Title: "What helps at night?", Author: "Quiet Heron",
		Status: "visible", Replies: 4, CreatedAt: exampleTime, LastPostAt: exampleTime}
	examplePost = community.Post{ID: 77, TopicID: 31, Opening: true, Author: "Quiet Heron", Body: "Music helps me. What helps you?", Status: "visible",
		CreatedAt: exampleTime, Reactions: []community.Reaction{{Kind: "me_too", Label: "Me too", Count: 3}}}
	exampleQueueItem = community.QueueItem{Post: examplePost, TopicTitle: "What helps at night?", SpaceName: "Living with voices",
		Flags: []community.Flag{{ID: 5, Kind: "held", Label: "Waiting for a moderator", CreatedAt: exampleTime}}, WaitingFrom: exampleTime}
	exampleMember = community.Member{DisplayName: "Quiet Heron", TrustLevel: 0, CareTeamConsent: true, JoinedAt: exampleTime, Version: 1}
)

var opListSpaces = APIOp{Summary: "The community's spaces you may see", Tag: "Community",
	Description: "Invitation-only spaces you were not invited to are not listed.", Response: SpaceList{Spaces: []community.Space{exampleSpace}}}

var opCreateSpace = APIOp{Summary: "Make a space (moderators)", Tag: "Community", Status: http.StatusCreated,
	Request: community.Space{Name: "Carers' corner", ForCarers: true}, Response: exampleSpace}

var opGetCommunitySettings = APIOp{Summary: "Your community membership", Tag: "Community",
	Description: "joined is false until you join (PUT /api/v1/community/settings).", Response: CommunityMe{Joined: true, Member: &exampleMember}}

var opPutCommunitySettings = APIOp{Summary: "Join the community, or change your display name and consent", Tag: "Community",
	Request: community.Settings{DisplayName: "Quiet Heron", CareTeamConsent: true}, Response: exampleMember}

var opListTopics = APIOp{Summary: "A space's topics", Tag: "Community", Query: id,
	Description: "Most recently active first. Your own posts waiting for a moderator are included (status held).",
	Response:    TopicList{Space: exampleSpace, Topics: []community.Topic{exampleTopic}}}

var opCreateTopic = APIOp{Summary: "Start a topic", Tag: "Community", Query: id, Status: http.StatusCreated, Limited: true,
	Description: "Every post is checked against the watched words: a post may be held for a moderator, refused (422), or posted with identifying details hidden; when help_now is true show the writer where to get help now. New members' posts are held, they may not post links, and they may start 3 topics a day (429 beyond).",
	Request:     community.NewTopic{Title: "What helps at night?", Body: "Music helps me. What helps you?"},
	Response:    PostedAnswer{Posted: community.Posted{Topic: exampleTopic, Post: examplePost}}}

var opTopicPosts = APIOp{Summary: "A topic and its posts", Tag: "Community",
	Description: "A page of the posts the reader may see, oldest first: limit of them (100 unless given, at most 500) from offset, with total; or, with after, every post after that one.",
	Query: append(slices.Clone(id), Param{Name: "after", In: "query", Type: "integer",
		Description: "Only the posts after this post's id, up to 500 (total is then how many are given): what a reader who has seen the topic up to it has not seen (poll with the newest id you have)."},
		Param{Name: "offset", In: "query", Type: "integer", Description: "Where the page starts (0: the opening post)."},
		Param{Name: "limit", In: "query", Type: "integer", Description: "How many posts, up to 500 (default 100)."}),
	Response: community.TopicPage{Topic: exampleTopic, Posts: []community.Post{examplePost}, Member: true, CanReply: true}}

var opReply = APIOp{Summary: "Reply to a topic", Tag: "Community", Query: id, Status: http.StatusCreated, Limited: true,
	Description: "Checked as a new topic is; new members may post 10 replies a day.",
	Request:     community.NewPost{Body: "Me too. A podcast at low volume helps."},
	Response:    PostedAnswer{Posted: community.Posted{Topic: exampleTopic, Post: examplePost}}}

var opReact = APIOp{Summary: "Give or take back a supportive reaction", Tag: "Community", Query: id,
	Request: ReactionRequest{Kind: "strength"}, Response: examplePost}

var opFlagPost = APIOp{Summary: "Tell the moderators about a post", Tag: "Community", Query: id, Status: http.StatusNoContent,
	Description: "Only moderators see flags. You are told what they decided.",
	Request:     community.NewFlag{Kind: "worried", Note: "They sound very low tonight."}}

var opModerationQueue = APIOp{Summary: "Posts waiting for a moderator, risk first", Tag: "Moderation",
	Response: ModerationQueue{Items: []community.QueueItem{exampleQueueItem}}}

var opModerationItem = APIOp{Summary: "One post for a moderator: its topic, flags and escalations", Tag: "Moderation", Query: id,
	Response: community.Item{QueueItem: exampleQueueItem, Context: []community.Post{examplePost}, History: []community.Flag{},
		Escalations: []community.Escalation{}, WriterID: 12}}

var opModerationDecision = APIOp{Summary: "Approve or hide a post", Tag: "Moderation", Query: id,
	Description: "Closes every open flag on the post; the writer and the flaggers are told. A post another moderator has already decided is 409.",
	Request:     community.Decision{Action: "hide", Reason: "It names someone who is not in the space."},
	Response:    community.Item{QueueItem: exampleQueueItem, Context: []community.Post{examplePost}, History: []community.Flag{}, Escalations: []community.Escalation{}, WriterID: 12}}

var opModerationEscalation = APIOp{Summary: "Record a concern for the writer of a post", Tag: "Moderation", Query: id, Status: http.StatusCreated,
	Description: "If the writer agreed in their settings and has an open referral, the duty leads of its team are alerted (the alert carries the referral's reference, never the post); otherwise route is moderators and you follow up in the space. The writer is told which.",
	Request:     community.NewEscalation{Reason: "Talks of ending it all tonight."},
	Response:    community.Escalation{ID: 3, Route: "care_team", Reason: "Talks of ending it all tonight.", At: exampleTime, By: "Mo Clarke"}}

var opMemberTrust = APIOp{Summary: "Set a member's trust level, with a reason", Tag: "Moderation", Query: id,
	Request: community.TrustChange{Level: 1, Reason: "Known to the peer team; posts have been kind."}, Response: exampleMember}

var opMemberIdentity = APIOp{Summary: "Who is behind a display name (audited)", Tag: "Moderation", Query: id,
	Description: "For a moderator who needs it for someone's safety. Each look is recorded in the audit trail, naming the person.",
	Response:    community.Identity{DisplayName: "Quiet Heron", Name: "Sam Jones", Email: "sam@example.com", HasRecord: true}}

func (s *Server) apiListSpaces(w http.ResponseWriter, r *http.Request) error {
	list, err := s.community.Spaces(r.Context(), principal(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, SpaceList{Spaces: list})
}

func (s *Server) apiCreateSpace(w http.ResponseWriter, r *http.Request) error {
	var in community.Space
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	sp, err := s.community.CreateSpace(r.Context(), principal(r), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, sp)
}

func (s *Server) apiGetCommunitySettings(w http.ResponseWriter, r *http.Request) error {
	m, err := s.community.Me(r.Context(), principal(r))
	switch {
	case app.IsCode(err, app.CodeNotFound):
		return writeJSON(w, http.StatusOK, CommunityMe{})
	case err != nil:
		return err
	}
	return writeJSON(w, http.StatusOK, CommunityMe{Joined: true, Member: &m})
}

func (s *Server) apiPutCommunitySettings(w http.ResponseWriter, r *http.Request) error {
	var in community.Settings
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	m, err := s.community.SaveSettings(r.Context(), principal(r), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, m)
}

func (s *Server) apiListTopics(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	sp, list, err := s.community.Topics(r.Context(), principal(r), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, TopicList{Space: sp, Topics: list})
}

func postedAnswer(res community.Posted) PostedAnswer {
	out := PostedAnswer{Posted: res}
	if res.HelpNow {
		out.Help = helpNow(true, false)
	}
	return out
}

func (s *Server) apiCreateTopic(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in community.NewTopic
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	res, err := s.community.CreateTopic(r.Context(), principal(r), id, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, postedAnswer(res))
}

func (s *Server) apiTopicPosts(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	q := r.URL.Query()
	after, err := queryID(q, "after")
	if err != nil {
		return err
	}
	var tp community.TopicPage
	if q.Has("after") {
		tp, err = s.community.TopicAfter(r.Context(), principal(r), id, after)
	} else {
		var off int
		var limit int64
		if off, err = queryOffset(q); err != nil {
			return err
		}
		if limit, err = queryID(q, "limit"); err != nil {
			return err
		}
		tp, err = s.community.TopicPosts(r.Context(), principal(r), id, off, int(cmp.Or(limit, postsPerPage)))
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, tp)
}

func (s *Server) apiReply(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in community.NewPost
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	res, err := s.community.Reply(r.Context(), principal(r), id, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, postedAnswer(res))
}

func (s *Server) apiReact(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in ReactionRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	po, err := s.community.React(r.Context(), principal(r), id, in.Kind)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, po)
}

func (s *Server) apiFlagPost(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in community.NewFlag
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := s.community.Flag(r.Context(), principal(r), id, in); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiModerationQueue(w http.ResponseWriter, r *http.Request) error {
	q, err := s.community.Queue(r.Context(), principal(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, ModerationQueue{Items: q})
}

func (s *Server) apiModerationItem(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	it, err := s.community.Item(r.Context(), principal(r), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, it)
}

func (s *Server) apiModerationDecision(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in community.Decision
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	it, err := s.community.Decide(r.Context(), principal(r), id, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, it)
}

func (s *Server) apiModerationEscalation(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in community.NewEscalation
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	e, err := s.community.Escalate(r.Context(), principal(r), id, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, e)
}

func (s *Server) apiMemberTrust(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in community.TrustChange
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	m, err := s.community.SetTrust(r.Context(), principal(r), id, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, m)
}

func (s *Server) apiMemberIdentity(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	who, err := s.community.Identity(r.Context(), principal(r), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, who)
}

// SupportAnswer is what a request for 1:1 peer support from the community
// gives back: the referral it made (or joined).
type SupportAnswer struct {
	ReferralID int64  `json:"referral_id"`
	Reference  string `json:"reference"`
}

var opSupportRequest = APIOp{Summary: "Ask for 1:1 peer support from the community", Tag: "Community", Status: http.StatusCreated,
	Description: "Makes your own request for peer support (people who use services, and carers for themselves), with your agreement; it joins an open referral if you have one. Follow it at GET /api/v1/my/referrals/{id}.",
	Request:     community.SupportRequest{AskedFor: "Someone to talk to about the voices at night", Agree: true},
	Response:    SupportAnswer{ReferralID: 42, Reference: "MUT-7KQ3-X9PD"}}

func (s *Server) apiSupportRequest(w http.ResponseWriter, r *http.Request) error {
	var in community.SupportRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	ref, err := s.community.AskForSupport(r.Context(), principal(r), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, SupportAnswer{ReferralID: ref.ID, Reference: ref.Reference})
}

// TagCloud is GET /api/v1/community/tags.
type TagCloud struct {
	Tags []community.TagCount `json:"tags"`
}

// SearchResult is GET /api/v1/community/search.
type SearchResult struct {
	Topics []community.Topic `json:"topics"`
}

// Following is PUT /api/v1/topics/{id}/follow.
type Following struct {
	Following bool `json:"following" required:"true"`
}

var opCommunityTags = APIOp{Summary: "The tag cloud: what people talk about in the spaces you may see", Tag: "Community",
	Query:    []Param{{Name: "space_id", In: "query", Type: "integer", Description: "One space only."}},
	Response: TagCloud{Tags: []community.TagCount{{Tag: "sleep", Count: 12, Size: 5}, {Tag: "voices", Count: 3, Size: 2}}}}

var opCommunitySearch = APIOp{Summary: "Find topics by words or a tag, in the spaces you may see", Tag: "Community",
	Query: []Param{{Name: "q", In: "query", Type: "string", Description: "Words, each of which must be in the title or a visible post."},
		{Name: "tag", In: "query", Type: "string", Description: "A tag."}},
	Response: SearchResult{Topics: []community.Topic{exampleTopic}}}

var opFollowTopic = APIOp{Summary: "Follow a topic, or stop following it", Tag: "Community", Query: id,
	Description: "Followers are told in Mutual of new replies.", Request: Following{Following: true}, Response: Following{Following: true}}

func (s *Server) apiCommunityTags(w http.ResponseWriter, r *http.Request) error {
	spaceID, err := queryID(r.URL.Query(), "space_id")
	if err != nil {
		return err
	}
	tags, err := s.community.Tags(r.Context(), principal(r), spaceID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, TagCloud{Tags: tags})
}

func (s *Server) apiCommunitySearch(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	found, err := s.community.Find(r.Context(), principal(r), q.Get("q"), q.Get("tag"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, SearchResult{Topics: found})
}

func (s *Server) apiFollowTopic(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in Following
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	on, err := s.community.Follow(r.Context(), principal(r), id, in.Following)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, Following{Following: on})
}
