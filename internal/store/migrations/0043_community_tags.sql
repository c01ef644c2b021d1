-- Tags on topics (for the tag cloud and finding topics) and the topics a
-- member follows (told of new replies).
CREATE TABLE community_topic_tags (
    topic_id BIGINT NOT NULL REFERENCES community_topics (id),
    tag TEXT NOT NULL,
    PRIMARY KEY (topic_id, tag)
);
CREATE INDEX community_topic_tags_tag ON community_topic_tags (tag);

CREATE TABLE community_follows (
    user_id BIGINT NOT NULL REFERENCES users (id),
    topic_id BIGINT NOT NULL REFERENCES community_topics (id),
    created_at {{TIMESTAMP}} NOT NULL,
    PRIMARY KEY (user_id, topic_id)
);
CREATE INDEX community_follows_topic ON community_follows (topic_id);
