package web

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/community"
	"github.com/mutualhq/mutual/internal/memo"
)

// Live topic pages: a reader's open page is sent each new post as it
// arrives, as server-sent events (GET /community/topics/{id}/live). The
// page works without it (a reload shows new replies); with JavaScript,
// mutual.js adds each post to the page and says so to screen readers.
//
// Each stream checks the topic's newest post id every livePoll (one cheap
// query, shared by every reader of the topic on this instance for that
// long) and only then reads what this reader may see, through the same
// rules as the page. Several instances need nothing between them: each
// reads the database. A request that does not accept text/event-stream
// (anything but a browser's EventSource) is sent what is new now and
// ended. A stream ends after liveFor (the browser opens a
// new one from the last post it was sent), when the reader may no longer
// see the topic, and when the instance shuts down. Streams do not take an
// admission slot (they would starve the pages) but are capped per
// instance at maxLiveStreams; beyond that the page still works by reload.
const (
	livePoll       = 2 * time.Second
	liveFor        = 10 * time.Minute
	liveKeepAlive  = 20 * time.Second
	maxLiveStreams = 2000
)

// liveStreams counts the open streams; liveStop ends them at shutdown.
type liveStreams struct {
	open    atomic.Int64
	stop    chan struct{}
	stopped atomic.Bool
	latest  memo.Map[int64, int64] // by topic
	poll    time.Duration
}

func isLivePath(path string) bool {
	return strings.HasPrefix(path, "/community/topics/") && strings.HasSuffix(path, "/live")
}

// StopStreams ends every live stream, for a graceful shutdown (register
// it with http.Server.RegisterOnShutdown: Shutdown waits for requests,
// and a stream would otherwise last until liveFor).
func (s *Server) StopStreams() {
	if s.live.stopped.CompareAndSwap(false, true) {
		close(s.live.stop)
	}
}

func lastPostID(ps []community.Post) int64 {
	var id int64
	for _, p := range ps {
		id = max(id, p.ID)
	}
	return id
}

func (s *Server) handleTopicLive(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	// The browser says where it got to when it reconnects.
	after, err := queryID(r.URL.Query(), "after")
	if err != nil {
		return err
	}
	if v, err := strconv.ParseInt(r.Header.Get("Last-Event-ID"), 10, 64); err == nil && v > after {
		after = v
	}
	p := principal(r)
	ctx := r.Context()
	tp, err := s.community.TopicAfter(ctx, p, id, after)
	if err != nil {
		return err
	}
	if s.live.open.Add(1) > maxLiveStreams {
		s.live.open.Add(-1)
		w.Header().Set("Retry-After", "60")
		return app.Errorf(app.CodeUnavailable, "Live updates are busy: reload the page to see new replies")
	}
	defer s.live.open.Add(-1)

	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	moderator := p.Can(app.PermModerate)
	// The page the stream adds to starts here (for its reaction forms).
	offset, err := queryOffset(r.URL.Query())
	if err != nil {
		offset = 0
	}
	sent, seen := after, after
	write := func(b []byte) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(30 * time.Second))
		if _, err := w.Write(b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	send := func(tp community.TopicPage) bool {
		var out bytes.Buffer
		for _, po := range tp.Posts {
			if po.ID <= sent {
				continue
			}
			var html bytes.Buffer
			if err := s.render.RenderPartial(&html, "community-post", map[string]any{"Post": po, "Member": tp.Member, "Moderator": moderator, "Offset": offset}); err != nil {
				s.log.Error("rendering a live post", "err", err, "request_id", requestID(ctx))
				return false
			}
			fmt.Fprintf(&out, "id: %d\nevent: post\n", po.ID)
			for _, line := range strings.Split(strings.TrimSpace(html.String()), "\n") {
				fmt.Fprintf(&out, "data: %s\n", line)
			}
			out.WriteString("\n")
			sent = po.ID
		}
		return out.Len() == 0 || write(out.Bytes())
	}
	if !write([]byte("retry: 5000\n\n")) || !send(tp) {
		return nil
	}
	if !strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
		// Not a browser's EventSource (a crawler, a script, a test of every
		// route): what is new now, then the end, rather than a wait.
		return nil
	}
	seen = max(seen, sent)
	poll := time.NewTicker(s.live.poll)
	defer poll.Stop()
	end := time.NewTimer(liveFor)
	defer end.Stop()
	quiet := time.Now()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.live.stop:
			return nil
		case <-end.C:
			return nil
		case <-poll.C:
		}
		latest, err := s.latestPost(ctx, id)
		if err != nil {
			return nil
		}
		if latest > seen {
			// As who the reader is now: a session ended, or a role taken
			// away, since the stream began ends it.
			if p = s.stillSignedIn(r); p == nil {
				_ = write([]byte("event: end\ndata: \n\n"))
				return nil
			}
			moderator = p.Can(app.PermModerate)
			tp, err := s.community.TopicAfter(ctx, p, id, sent)
			if err != nil {
				// No longer the reader's to see (or the database is away):
				// the page stays as it is, and a reload says why.
				_ = write([]byte("event: end\ndata: \n\n"))
				return nil
			}
			if !send(tp) {
				return nil
			}
			seen, quiet = latest, time.Now()
			continue
		}
		if time.Since(quiet) >= liveKeepAlive {
			if !write([]byte(": still here\n\n")) {
				return nil
			}
			quiet = time.Now()
		}
	}
}

// stillSignedIn is the caller of a long request as they are now (their
// session or token checked again), or nil once they may no longer use
// the signed-in pages.
func (s *Server) stillSignedIn(r *http.Request) *app.Principal {
	p, err := s.authenticate(headerSink{}, r)
	if err != nil || p == nil || p.MFAPending || p.MFASetup || !p.Can(app.PermSignedIn) {
		return nil
	}
	return p
}

// headerSink is a ResponseWriter that keeps nothing: for checking a
// session again once a response has begun (a cookie it would clear is the
// next request's to clear).
type headerSink struct{}

func (headerSink) Header() http.Header         { return http.Header{} }
func (headerSink) Write(b []byte) (int, error) { return len(b), nil }
func (headerSink) WriteHeader(int)             {}

// latestPost is a topic's newest post id, shared among the streams
// reading it on this instance for up to one poll.
func (s *Server) latestPost(ctx context.Context, topicID int64) (int64, error) {
	if id, ok := s.live.latest.Get(topicID, s.live.poll); ok {
		return id, nil
	}
	id, err := s.community.LatestPost(ctx, topicID)
	if err == nil {
		s.live.latest.Put(topicID, id)
	}
	return id, err
}
