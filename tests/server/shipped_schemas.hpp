#pragma once
// The store's schema as earlier versions shipped it, for the migration tests: a file
// written by one of them must open in this one with nothing lost. Never edit these;
// add the next version's when a migration is added.

namespace trellis::server::testing {

// Version 1: sessions, one row per output, flow versions.
inline constexpr const char* kSchemaVersion1 = R"sql(
  CREATE TABLE sessions(id INTEGER PRIMARY KEY AUTOINCREMENT, token_hash TEXT UNIQUE NOT NULL,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, state_json TEXT NOT NULL DEFAULT '',
    last_seq INTEGER NOT NULL DEFAULT 0, last_output_id INTEGER NOT NULL DEFAULT 0);
  CREATE INDEX sessions_by_updated_at ON sessions(updated_at);
  CREATE TABLE outputs(session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    id INTEGER NOT NULL, seq INTEGER NOT NULL, frame TEXT NOT NULL, PRIMARY KEY(session_id, id));
  CREATE INDEX outputs_by_seq ON outputs(session_id, seq);
  CREATE TABLE flow_versions(flow_id TEXT NOT NULL, version INTEGER NOT NULL, text TEXT NOT NULL,
    PRIMARY KEY(flow_id, version));
)sql";

// What version 2 added to version 1: safety events.
inline constexpr const char* kSchemaVersion2Additions = R"sql(
  CREATE TABLE safety_events(id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE, category TEXT NOT NULL,
    flow_id TEXT NOT NULL, node TEXT NOT NULL, text TEXT, at INTEGER NOT NULL);
  CREATE INDEX safety_events_by_at ON safety_events(at);
  CREATE INDEX safety_events_by_session ON safety_events(session_id);
)sql";

}  // namespace trellis::server::testing
