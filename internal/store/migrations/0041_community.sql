-- The moderated peer community: spaces, topics and their posts, supportive
-- reactions, members (pseudonymous: a display name; the account behind it
-- is seen only by moderators, audited), trust levels and their changes,
-- flags (by members, and raised by the watched words or a held post) that
-- make the moderators' queue, and escalations to a person's own care team.
CREATE TABLE community_spaces (
    id {{ID}},
    name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    -- Who may join: each kind of account the space is for. Moderators see
    -- every space.
    for_people BOOLEAN NOT NULL DEFAULT FALSE,
    for_carers BOOLEAN NOT NULL DEFAULT FALSE,
    for_staff BOOLEAN NOT NULL DEFAULT FALSE,
    for_public BOOLEAN NOT NULL DEFAULT FALSE,
    invitation_only BOOLEAN NOT NULL DEFAULT FALSE,
    created_at {{TIMESTAMP}} NOT NULL,
    created_by_user_id BIGINT REFERENCES users (id)
);

CREATE TABLE community_invitations (
    space_id BIGINT NOT NULL REFERENCES community_spaces (id),
    user_id BIGINT NOT NULL REFERENCES users (id),
    invited_at {{TIMESTAMP}} NOT NULL,
    invited_by_user_id BIGINT REFERENCES users (id),
    PRIMARY KEY (space_id, user_id)
);

CREATE TABLE community_members (
    user_id BIGINT PRIMARY KEY REFERENCES users (id),
    display_name TEXT NOT NULL,
    display_key TEXT NOT NULL UNIQUE,
    trust_level INTEGER NOT NULL DEFAULT 0 CHECK (trust_level BETWEEN 0 AND 2),
    -- The member's answer to "if moderators are worried about you, may
    -- they tell your own care team?", asked at joining, changeable.
    care_team_consent BOOLEAN NOT NULL DEFAULT FALSE,
    consent_changed_at {{TIMESTAMP}},
    joined_at {{TIMESTAMP}} NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE community_trust_changes (
    id {{ID}},
    user_id BIGINT NOT NULL REFERENCES users (id),
    from_level INTEGER NOT NULL,
    to_level INTEGER NOT NULL,
    reason TEXT NOT NULL,
    changed_by_user_id BIGINT REFERENCES users (id),
    changed_at {{TIMESTAMP}} NOT NULL
);
CREATE INDEX community_trust_changes_user ON community_trust_changes (user_id, changed_at);

CREATE TABLE community_topics (
    id {{ID}},
    space_id BIGINT NOT NULL REFERENCES community_spaces (id),
    title TEXT NOT NULL,
    author_user_id BIGINT NOT NULL REFERENCES users (id),
    created_at {{TIMESTAMP}} NOT NULL,
    last_post_at {{TIMESTAMP}} NOT NULL,
    -- visible once its opening post is; hidden with it.
    status TEXT NOT NULL CHECK (status IN ('visible', 'held', 'hidden'))
);
CREATE INDEX community_topics_space ON community_topics (space_id, status, last_post_at);

CREATE TABLE community_posts (
    id {{ID}},
    topic_id BIGINT NOT NULL REFERENCES community_topics (id),
    opening BOOLEAN NOT NULL DEFAULT FALSE,
    author_user_id BIGINT NOT NULL REFERENCES users (id),
    -- A member of staff posts under their role (e.g. peer_worker); '' for
    -- everyone else.
    author_role TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('visible', 'held', 'hidden')),
    -- What the watched words found: categories, comma-separated.
    found TEXT NOT NULL DEFAULT '',
    signposted BOOLEAN NOT NULL DEFAULT FALSE,
    created_at {{TIMESTAMP}} NOT NULL,
    decided_at {{TIMESTAMP}},
    decided_by_user_id BIGINT REFERENCES users (id),
    decision TEXT NOT NULL DEFAULT '',
    decision_reason TEXT NOT NULL DEFAULT '',
    version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX community_posts_topic ON community_posts (topic_id, id);
CREATE INDEX community_posts_author ON community_posts (author_user_id, status);

CREATE TABLE community_reactions (
    post_id BIGINT NOT NULL REFERENCES community_posts (id),
    user_id BIGINT NOT NULL REFERENCES users (id),
    kind TEXT NOT NULL CHECK (kind IN ('me_too', 'thank_you', 'strength')),
    created_at {{TIMESTAMP}} NOT NULL,
    PRIMARY KEY (post_id, user_id, kind)
);

-- A flag is one reason a post is in the moderators' queue: a member's
-- (worried, unkind, identifies, spam, other), or the system's (risk: the
-- watched words asked for it; held: the post waits for a moderator).
CREATE TABLE community_flags (
    id {{ID}},
    post_id BIGINT NOT NULL REFERENCES community_posts (id),
    kind TEXT NOT NULL CHECK (kind IN ('risk', 'held', 'worried', 'unkind', 'identifies', 'spam', 'other')),
    flagged_by_user_id BIGINT REFERENCES users (id),
    note TEXT NOT NULL DEFAULT '',
    created_at {{TIMESTAMP}} NOT NULL,
    resolved_at {{TIMESTAMP}},
    resolved_by_user_id BIGINT REFERENCES users (id),
    outcome TEXT NOT NULL DEFAULT ''
);
CREATE INDEX community_flags_open ON community_flags (resolved_at, post_id);
CREATE UNIQUE INDEX community_flags_once ON community_flags (post_id, kind, flagged_by_user_id) WHERE resolved_at IS NULL;

CREATE TABLE community_escalations (
    id {{ID}},
    post_id BIGINT NOT NULL REFERENCES community_posts (id),
    subject_user_id BIGINT NOT NULL REFERENCES users (id),
    -- care_team: the member had agreed and had an open referral, whose team
    -- was alerted; moderators: no consent (or nobody to tell), so the
    -- moderators follow up in the space.
    route TEXT NOT NULL CHECK (route IN ('care_team', 'moderators')),
    alert_id BIGINT REFERENCES alerts (id),
    reason TEXT NOT NULL,
    escalated_by_user_id BIGINT REFERENCES users (id),
    escalated_at {{TIMESTAMP}} NOT NULL
);
CREATE INDEX community_escalations_post ON community_escalations (post_id);
