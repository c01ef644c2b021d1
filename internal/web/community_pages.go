package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/community"
	"github.com/mutualhq/mutual/internal/web/ui"
)

// communityRoutes are the moderated peer community: spaces, topics,
// replies, reactions and flags for members; the queue, decisions, trust
// levels, identity and escalation for moderators. One line per route.
func (s *Server) communityRoutes() []*Route {
	return []*Route{
		pageRoute("GET /community", app.PermSignedIn, s.handleCommunity),
		pageRoute("POST /community/spaces", app.PermModerate, s.handleSpaceCreate),
		pageRoute("GET /community/settings", app.PermSignedIn, s.handleCommunitySettings),
		pageRoute("POST /community/settings", app.PermSignedIn, s.handleCommunitySettingsSave),
		pageRoute("GET /community/spaces/{id}", app.PermSignedIn, s.handleSpace),
		pageRoute("POST /community/spaces/{id}/topics", app.PermSignedIn, s.handleTopicCreate),
		pageRoute("GET /community/topics/{id}", app.PermSignedIn, s.handleTopic),
		pageRoute("GET /community/topics/{id}/live", app.PermSignedIn, s.handleTopicLive),
		pageRoute("POST /community/topics/{id}/posts", app.PermSignedIn, s.handleReply),
		pageRoute("POST /community/topics/{id}/follow", app.PermSignedIn, s.handleFollow),
		pageRoute("POST /community/posts/{id}/reactions", app.PermSignedIn, s.handleReact),
		pageRoute("GET /community/posts/{id}/flag", app.PermSignedIn, s.handleFlagForm),
		pageRoute("POST /community/posts/{id}/flags", app.PermSignedIn, s.handleFlag),
		personPage("GET /community/moderation", app.PermModerate, s.handleModerationQueue),
		personPage("GET /community/moderation/items/{id}", app.PermModerate, s.handleModerationItem),
		pageRoute("POST /community/moderation/items/{id}/decision", app.PermModerate, s.handleModerationDecision),
		pageRoute("POST /community/moderation/items/{id}/escalation", app.PermModerate, s.handleModerationEscalation),
		pageRoute("POST /community/members/{id}/trust", app.PermModerate, s.handleMemberTrust),
		personPage("GET /community/members/{id}/identity", app.PermModerate, s.handleMemberIdentity),
		pageRoute("GET /community/support", app.PermSignedIn, s.handleSupportForm),
		pageRoute("POST /community/support", app.PermSignedIn, s.handleSupportAsk),

		apiRoute("GET /api/v1/spaces", app.PermSignedIn, opListSpaces, s.apiListSpaces),
		apiRoute("POST /api/v1/spaces", app.PermModerate, opCreateSpace, s.apiCreateSpace),
		apiRoute("GET /api/v1/community/settings", app.PermSignedIn, opGetCommunitySettings, s.apiGetCommunitySettings),
		apiRoute("PUT /api/v1/community/settings", app.PermSignedIn, opPutCommunitySettings, s.apiPutCommunitySettings),
		apiRoute("GET /api/v1/spaces/{id}/topics", app.PermSignedIn, opListTopics, s.apiListTopics),
		apiRoute("POST /api/v1/spaces/{id}/topics", app.PermSignedIn, opCreateTopic, s.apiCreateTopic),
		apiRoute("GET /api/v1/topics/{id}/posts", app.PermSignedIn, opTopicPosts, s.apiTopicPosts),
		apiRoute("POST /api/v1/topics/{id}/posts", app.PermSignedIn, opReply, s.apiReply),
		apiRoute("POST /api/v1/posts/{id}/reactions", app.PermSignedIn, opReact, s.apiReact),
		apiRoute("POST /api/v1/posts/{id}/flags", app.PermSignedIn, opFlagPost, s.apiFlagPost),
		personAPI("GET /api/v1/moderation/queue", app.PermModerate, opModerationQueue, s.apiModerationQueue),
		personAPI("GET /api/v1/moderation/items/{id}", app.PermModerate, opModerationItem, s.apiModerationItem),
		apiRoute("POST /api/v1/moderation/items/{id}/decision", app.PermModerate, opModerationDecision, s.apiModerationDecision),
		apiRoute("POST /api/v1/moderation/items/{id}/escalation", app.PermModerate, opModerationEscalation, s.apiModerationEscalation),
		apiRoute("PUT /api/v1/community/members/{id}/trust", app.PermModerate, opMemberTrust, s.apiMemberTrust),
		personAPI("GET /api/v1/community/members/{id}/identity", app.PermModerate, opMemberIdentity, s.apiMemberIdentity),
		apiRoute("POST /api/v1/community/support-requests", app.PermSignedIn, opSupportRequest, s.apiSupportRequest),
		apiRoute("GET /api/v1/community/tags", app.PermSignedIn, opCommunityTags, s.apiCommunityTags),
		apiRoute("GET /api/v1/community/search", app.PermSignedIn, opCommunitySearch, s.apiCommunitySearch),
		apiRoute("PUT /api/v1/topics/{id}/follow", app.PermSignedIn, opFollowTopic, s.apiFollowTopic),
	}
}

type communityData struct {
	Spaces    []community.Space
	Member    *community.Member
	Moderator bool
	Waiting   int
	Risk      int
	// CanAsk: a member who may ask for 1:1 peer support from here.
	CanAsk bool
	Cloud  []community.TagCount
	// Searched: what was searched for (words or a tag), and what was found.
	Query, Tag string
	Searched   bool
	Found      []community.Topic
}

func (s *Server) communityHome(w http.ResponseWriter, r *http.Request, status int, f *ui.Form) error {
	p := principal(r)
	spaces, err := s.community.Spaces(r.Context(), p)
	if err != nil {
		return err
	}
	d := communityData{Spaces: spaces, Moderator: p.Can(app.PermModerate), Query: r.URL.Query().Get("q"), Tag: r.URL.Query().Get("tag")}
	if d.Cloud, err = s.community.Tags(r.Context(), p, 0); err != nil {
		return err
	}
	if d.Query != "" || d.Tag != "" {
		d.Searched = true
		if d.Found, err = s.community.Find(r.Context(), p, d.Query, d.Tag); err != nil {
			return err
		}
	}
	if m, err := s.community.Me(r.Context(), p); err == nil {
		d.Member = &m
		d.CanAsk = p.HasRole(app.RolePerson, app.RoleCarer)
	} else if !app.IsCode(err, app.CodeNotFound) {
		return err
	}
	if d.Moderator {
		if d.Waiting, d.Risk, err = s.community.QueueSize(r.Context(), p); err != nil {
			return err
		}
	}
	if f == nil {
		f = ui.NewForm(url.Values{})
	}
	return s.page(w, r, status, "community/home", &ui.Page{Title: "Community", Data: d, Form: f})
}

func (s *Server) handleCommunity(w http.ResponseWriter, r *http.Request) error {
	return s.communityHome(w, r, http.StatusOK, nil)
}

func spaceFromForm(f *ui.Form) community.Space {
	return community.Space{Name: f.Value("name"), Description: f.Value("description"), ForPeople: f.Has("for", "people"),
		ForCarers: f.Has("for", "carers"), ForStaff: f.Has("for", "staff"), ForPublic: f.Has("for", "public"), InvitationOnly: f.Has("for", "invitation")}
}

func (s *Server) handleSpaceCreate(w http.ResponseWriter, r *http.Request) error {
	f, err := parseForm(w, r)
	if err != nil {
		return err
	}
	sp, err := s.community.CreateSpace(r.Context(), principal(r), spaceFromForm(f))
	if err != nil {
		if ae := app.As(err); ae.Code == app.CodeInvalid {
			for _, fe := range ae.Fields {
				if fe.Field == "for_people" {
					fe.Field = "for"
				}
				f.AddError(fe.Field, fe.Message)
			}
			return s.communityHome(w, r, http.StatusUnprocessableEntity, f)
		}
		return err
	}
	setFlash(w, "Space made: "+sp.Name)
	return redirect(w, r, "/community/spaces/"+strconv.FormatInt(sp.ID, 10))
}

func (s *Server) communitySettingsPage(w http.ResponseWriter, r *http.Request, status int, f *ui.Form, joined bool) error {
	return s.page(w, r, status, "community/settings", &ui.Page{Title: "Your community settings", Form: f, Data: joined, BackLink: "/community"})
}

func (s *Server) handleCommunitySettings(w http.ResponseWriter, r *http.Request) error {
	v := url.Values{}
	m, err := s.community.Me(r.Context(), principal(r))
	joined := err == nil
	if joined {
		v.Set("display_name", m.DisplayName)
		if m.CareTeamConsent {
			v.Set("care_team_consent", "yes")
		} else {
			v.Set("care_team_consent", "no")
		}
	} else if !app.IsCode(err, app.CodeNotFound) {
		return err
	}
	return s.communitySettingsPage(w, r, http.StatusOK, ui.NewForm(v), joined)
}

func (s *Server) handleCommunitySettingsSave(w http.ResponseWriter, r *http.Request) error {
	f, err := parseForm(w, r)
	if err != nil {
		return err
	}
	p := principal(r)
	_, had := s.community.Me(r.Context(), p)
	if f.Value("care_team_consent") == "" {
		f.AddError("care_team_consent", "Say whether moderators may tell your care team if they are worried about you")
		return s.communitySettingsPage(w, r, http.StatusUnprocessableEntity, f, had == nil)
	}
	_, err = s.community.SaveSettings(r.Context(), p, community.Settings{DisplayName: f.Value("display_name"), CareTeamConsent: f.Value("care_team_consent") == "yes"})
	if err != nil {
		if !formWithErrors(f, err) {
			return err
		}
		return s.communitySettingsPage(w, r, http.StatusUnprocessableEntity, f, had == nil)
	}
	setFlash(w, "Your community settings are saved")
	return redirect(w, r, "/community")
}

type spaceData struct {
	Space  community.Space
	Topics []community.Topic
	Member bool
}

func (s *Server) spacePage(w http.ResponseWriter, r *http.Request, status int, id int64, f *ui.Form) error {
	p := principal(r)
	sp, topics, err := s.community.Topics(r.Context(), p, id)
	if err != nil {
		return err
	}
	_, merr := s.community.Me(r.Context(), p)
	if f == nil {
		f = ui.NewForm(url.Values{})
	}
	return s.page(w, r, status, "community/space", &ui.Page{Title: sp.Name, Form: f, BackLink: "/community",
		Data: spaceData{Space: sp, Topics: topics, Member: merr == nil}})
}

func (s *Server) handleSpace(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return s.spacePage(w, r, http.StatusOK, id, nil)
}

// posted sends the writer on after a post: where to get help now first if
// the words asked for it, and a message saying what happened to the post.
func posted(w http.ResponseWriter, r *http.Request, res community.Posted) error {
	if res.HelpNow {
		setHelpNow(w, true, false)
	}
	// Where to get help now comes first on the page: a plain "posted" would
	// stand above it, and the post itself shows it is up.
	msg := "Your post is up"
	if res.HelpNow {
		msg = ""
	}
	switch {
	case res.Held:
		msg = "Thank you. Your post will appear once a moderator has seen it: new members' posts, and some words, are read first"
	case res.Replaced:
		msg = "Your post is up. We hid details that could identify someone, such as a phone number or an address"
	}
	if msg != "" {
		setFlash(w, msg)
	}
	return redirect(w, r, "/community/topics/"+strconv.FormatInt(res.Topic.ID, 10)+"?latest#post-"+strconv.FormatInt(res.Post.ID, 10))
}

// postFailed shows the form again with what was typed and the problems;
// a refused post about risk still shows where to get help now.
func postFailed(f *ui.Form, res community.Posted, err error) (int, string, bool) {
	help := ""
	if res.HelpNow {
		help = "self"
	}
	ae := app.As(err)
	switch ae.Code {
	case app.CodeInvalid:
		formWithErrors(f, err)
		return http.StatusUnprocessableEntity, help, true
	case app.CodeTooMany, app.CodeForbidden, app.CodeConflict:
		f.AddError("", ae.Message)
		return ae.Code.Status(), help, true
	}
	return 0, "", false
}

func (s *Server) handleTopicCreate(w http.ResponseWriter, r *http.Request) error {
	id, f, err := idAndForm(w, r)
	if err != nil {
		return err
	}
	res, err := s.community.CreateTopic(r.Context(), principal(r), id, community.NewTopic{Title: f.Value("title"), Body: f.Value("body"), Tags: f.Value("tags")})
	if err != nil {
		status, help, ok := postFailed(f, res, err)
		if !ok {
			return err
		}
		if help != "" {
			setHelpNow(w, true, false)
		}
		return s.spacePageHelp(w, r, status, id, f, help)
	}
	return posted(w, r, res)
}

func (s *Server) spacePageHelp(w http.ResponseWriter, r *http.Request, status int, id int64, f *ui.Form, help string) error {
	p := principal(r)
	sp, topics, err := s.community.Topics(r.Context(), p, id)
	if err != nil {
		return err
	}
	return s.page(w, r, status, "community/space", &ui.Page{Title: sp.Name, Form: f, BackLink: "/community", HelpNow: help,
		Data: spaceData{Space: sp, Topics: topics, Member: true}})
}

type topicData struct {
	Page      community.TopicPage
	Moderator bool
	Reactions []app.Choice
	// Live: this is the last page, which asks for posts after LastPostID,
	// the newest shown, as they arrive.
	Live       bool
	LastPostID int64
	Pager      Pager
}

// postsPerPage is how many posts a topic's page shows.
const postsPerPage = 100

// topicPage shows a page of a topic's posts: from ?offset=, or the last
// page with ?latest (where a new post is, and where a form shown again
// after a problem sends the writer).
func (s *Server) topicPage(w http.ResponseWriter, r *http.Request, status int, id int64, f *ui.Form, help string) error {
	p := principal(r)
	q := r.URL.Query()
	offset, err := queryOffset(q)
	if err != nil {
		return err
	}
	if q.Has("latest") || r.Method != http.MethodGet {
		offset = -1
	}
	tp, err := s.community.TopicPosts(r.Context(), p, id, offset, postsPerPage)
	if err != nil {
		return err
	}
	if f == nil {
		f = ui.NewForm(url.Values{})
	}
	d := topicData{Page: tp, Moderator: p.Can(app.PermModerate), Reactions: community.Reactions,
		Pager: pager(r.URL.Path, url.Values{}, tp.Total, postsPerPage, tp.Offset, len(tp.Posts))}
	d.Live, d.LastPostID = tp.Offset+len(tp.Posts) >= tp.Total, lastPostID(tp.Posts)
	return s.page(w, r, status, "community/topic", &ui.Page{Title: tp.Topic.Title, Form: f, HelpNow: help,
		BackLink: "/community/spaces/" + strconv.FormatInt(tp.Topic.SpaceID, 10), Data: d})
}

func (s *Server) handleTopic(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return s.topicPage(w, r, http.StatusOK, id, nil, "")
}

func (s *Server) handleReply(w http.ResponseWriter, r *http.Request) error {
	id, f, err := idAndForm(w, r)
	if err != nil {
		return err
	}
	res, err := s.community.Reply(r.Context(), principal(r), id, community.NewPost{Body: f.Value("body")})
	if err != nil {
		status, help, ok := postFailed(f, res, err)
		if !ok {
			return err
		}
		return s.topicPage(w, r, status, id, f, help)
	}
	return posted(w, r, res)
}

func (s *Server) handleReact(w http.ResponseWriter, r *http.Request) error {
	id, f, err := idAndForm(w, r)
	if err != nil {
		return err
	}
	po, err := s.community.React(r.Context(), principal(r), id, f.Value("kind"))
	if err != nil {
		return err
	}
	// Back to the page the reader reacted on.
	page := ""
	if off, err := strconv.Atoi(f.Value("offset")); err == nil && off > 0 && off <= maxOffset {
		page = "?offset=" + strconv.Itoa(off)
	}
	return redirect(w, r, "/community/topics/"+strconv.FormatInt(po.TopicID, 10)+page+"#post-"+strconv.FormatInt(po.ID, 10))
}

func (s *Server) flagPage(w http.ResponseWriter, r *http.Request, status int, id int64, f *ui.Form) error {
	return s.page(w, r, status, "community/flag", &ui.Page{Title: "Tell a moderator about this post", Form: f,
		Data: struct {
			PostID int64
			Kinds  []ui.Option
		}{id, choiceOptions(community.FlagKinds)}})
}

func (s *Server) handleFlagForm(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return s.flagPage(w, r, http.StatusOK, id, ui.NewForm(url.Values{}))
}

func (s *Server) handleFlag(w http.ResponseWriter, r *http.Request) error {
	id, f, err := idAndForm(w, r)
	if err != nil {
		return err
	}
	kind := f.Value("kind")
	if err := s.community.Flag(r.Context(), principal(r), id, community.NewFlag{Kind: kind, Note: f.Value("note")}); err != nil {
		if !formWithErrors(f, err) {
			return err
		}
		return s.flagPage(w, r, http.StatusUnprocessableEntity, id, f)
	}
	if kind == "worried" {
		setHelpNow(w, false, false)
	}
	setFlash(w, "Thank you. A moderator will look at the post, and you will be told what happened")
	return redirect(w, r, "/community")
}

func (s *Server) handleModerationQueue(w http.ResponseWriter, r *http.Request) error {
	q, err := s.community.Queue(r.Context(), principal(r))
	if err != nil {
		return err
	}
	return s.page(w, r, http.StatusOK, "community/queue", &ui.Page{Title: "Moderation queue", Data: q})
}

type itemData struct {
	Item     community.Item
	Levels   []ui.Option
	Identity *community.Identity
}

func (s *Server) itemPage(w http.ResponseWriter, r *http.Request, status int, id int64, f *ui.Form) error {
	it, err := s.community.Item(r.Context(), principal(r), id)
	if err != nil {
		return err
	}
	if f == nil {
		f = ui.NewForm(url.Values{"level": {strconv.Itoa(it.TrustLevel)}})
	}
	var levels []ui.Option
	for l := community.LevelNew; l <= community.LevelTrusted; l++ {
		levels = append(levels, ui.Option{Value: strconv.Itoa(l), Label: community.LevelLabel(l)})
	}
	return s.page(w, r, status, "community/item", &ui.Page{Title: "Post by " + it.Post.Author, Form: f, BackLink: "/community/moderation",
		Data: itemData{Item: it, Levels: levels}})
}

func (s *Server) handleModerationItem(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return s.itemPage(w, r, http.StatusOK, id, nil)
}

// moderatorForm runs a moderator's form on an item, showing the item again
// with the problems when it is refused.
func (s *Server) moderatorForm(w http.ResponseWriter, r *http.Request, do func(f *ui.Form, id int64) (string, error)) error {
	id, f, err := idAndForm(w, r)
	if err != nil {
		return err
	}
	msg, err := do(f, id)
	if err != nil {
		if err := formProblem(f, err, app.CodeConflict); err != nil {
			return err
		}
		return s.itemPage(w, r, app.As(err).Code.Status(), formInt(f, "post_id"), f)
	}
	setFlash(w, msg)
	return redirect(w, r, "/community/moderation/items/"+strconv.FormatInt(formInt(f, "post_id"), 10))
}

func (s *Server) handleModerationDecision(w http.ResponseWriter, r *http.Request) error {
	return s.moderatorForm(w, r, func(f *ui.Form, id int64) (string, error) {
		f.Values.Set("post_id", strconv.FormatInt(id, 10))
		_, err := s.community.Decide(r.Context(), principal(r), id, community.Decision{Action: f.Value("action"), Reason: f.Value("reason")})
		if f.Value("action") == "hide" {
			return "Post hidden. Its writer and anyone who flagged it have been told", err
		}
		return "Post approved. Its writer and anyone who flagged it have been told", err
	})
}

func (s *Server) handleModerationEscalation(w http.ResponseWriter, r *http.Request) error {
	return s.moderatorForm(w, r, func(f *ui.Form, id int64) (string, error) {
		f.Values.Set("post_id", strconv.FormatInt(id, 10))
		e, err := s.community.Escalate(r.Context(), principal(r), id, community.NewEscalation{Reason: f.Value("escalation_reason")})
		if ae := app.As(err); ae != nil && ae.Code == app.CodeInvalid {
			err = app.Invalid(app.FieldError{Field: "escalation_reason", Message: ae.Fields[0].Message})
		}
		if e.Route == "care_team" {
			return "Concern recorded. The member agreed, so their care team's duty leads have been alerted", err
		}
		return "Concern recorded. The member has not agreed to their care team being told (or has no open referral): follow up with them in the community", err
	})
}

func (s *Server) handleMemberTrust(w http.ResponseWriter, r *http.Request) error {
	return s.moderatorForm(w, r, func(f *ui.Form, id int64) (string, error) {
		level, _ := strconv.Atoi(f.Value("level"))
		_, err := s.community.SetTrust(r.Context(), principal(r), id, community.TrustChange{Level: level, Reason: f.Value("trust_reason")})
		if ae := app.As(err); ae != nil && ae.Code == app.CodeInvalid {
			for i := range ae.Fields {
				if ae.Fields[i].Field == "reason" {
					ae.Fields[i].Field = "trust_reason"
				}
			}
			err = ae
		}
		return "Trust level changed. The member has been told why", err
	})
}

func (s *Server) handleMemberIdentity(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	who, err := s.community.Identity(r.Context(), principal(r), id)
	if err != nil {
		return err
	}
	return s.page(w, r, http.StatusOK, "community/identity", &ui.Page{Title: "Who is " + who.DisplayName, Data: who, BackLink: "/community/moderation"})
}

func (s *Server) supportPage(w http.ResponseWriter, r *http.Request, status int, f *ui.Form) error {
	return s.page(w, r, status, "community/support", &ui.Page{Title: "Ask for 1:1 peer support", Form: f, BackLink: "/community"})
}

func (s *Server) handleSupportForm(w http.ResponseWriter, r *http.Request) error {
	return s.supportPage(w, r, http.StatusOK, ui.NewForm(url.Values{}))
}

func (s *Server) handleSupportAsk(w http.ResponseWriter, r *http.Request) error {
	f, err := parseForm(w, r)
	if err != nil {
		return err
	}
	ref, err := s.community.AskForSupport(r.Context(), principal(r), community.SupportRequest{AskedFor: f.Value("asked_for"), Agree: checked(f, "agree")})
	if err != nil {
		ae := app.As(err)
		switch {
		case formWithErrors(f, err):
		case ae.Code == app.CodeForbidden:
			f.AddError("", ae.Message)
		default:
			return err
		}
		return s.supportPage(w, r, ae.Code.Status(), f)
	}
	setFlash(w, "Your request for peer support is with the team: "+ref.Reference)
	return redirect(w, r, "/my/referrals/"+strconv.FormatInt(ref.ID, 10))
}

func (s *Server) handleFollow(w http.ResponseWriter, r *http.Request) error {
	id, f, err := idAndForm(w, r)
	if err != nil {
		return err
	}
	on, err := s.community.Follow(r.Context(), principal(r), id, f.Value("follow") == "yes")
	if err != nil {
		return err
	}
	if on {
		setFlash(w, "You are following this topic: you will be told of new replies")
	} else {
		setFlash(w, "You no longer follow this topic")
	}
	return redirect(w, r, "/community/topics/"+strconv.FormatInt(id, 10))
}
