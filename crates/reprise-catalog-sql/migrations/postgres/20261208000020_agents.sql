-- Agents: `reprise agent` on other hosts. Their credentials are tokens; this is what
-- the server last heard from each, and the work it hands them until they report back.
CREATE TABLE agents (
    host TEXT PRIMARY KEY,
    enrolled_us BIGINT NOT NULL,
    seen_us BIGINT,
    version TEXT,
    address TEXT
);

CREATE TABLE agent_jobs (
    id BIGSERIAL PRIMARY KEY,
    host TEXT NOT NULL,
    kind TEXT NOT NULL,
    asset_id TEXT NOT NULL,
    spec TEXT NOT NULL,
    created_us BIGINT NOT NULL,
    deadline_us BIGINT NOT NULL,
    state TEXT NOT NULL,
    started_us BIGINT,
    finished_us BIGINT,
    result TEXT
);

CREATE INDEX agent_jobs_by_host ON agent_jobs (host, state);
