-- +goose Up
-- Bulk assignment from CSV (plugins/loyalty/imports, docs/loyalty-import.md):
-- one row per uploaded file, the file itself in 1 MiB chunks until it is
-- processed, and the outcome of every data row for the downloadable report.

CREATE TABLE imports (
    id             TEXT PRIMARY KEY,
    file_name      TEXT NOT NULL,
    sha256         TEXT NOT NULL,          -- of the bytes uploaded
    content_sha256 TEXT NOT NULL,          -- of the rows, whatever the bytes (see the doc)
    size_bytes     INTEGER NOT NULL,
    encoding       TEXT NOT NULL,
    separator      TEXT NOT NULL,
    uploader_name  TEXT NOT NULL DEFAULT '',
    uploader_email TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    total_rows     INTEGER NOT NULL DEFAULT 0,
    done_rows      INTEGER NOT NULL DEFAULT 0,
    applied_rows   INTEGER NOT NULL DEFAULT 0,
    failed_rows    INTEGER NOT NULL DEFAULT 0,
    skipped_rows   INTEGER NOT NULL DEFAULT 0,
    points         INTEGER NOT NULL DEFAULT 0, -- credited by this import
    created_customers INTEGER NOT NULL DEFAULT 0,
    message        TEXT NOT NULL DEFAULT '',
    created_at     DATETIME NOT NULL,
    updated_at     DATETIME NOT NULL,
    finished_at    DATETIME
);
-- The same bytes are imported once; a failed import does not block a new
-- upload of its file (its applied lines are protected by their source keys).
CREATE UNIQUE INDEX imports_sha256 ON imports(sha256) WHERE status <> 'failed';
CREATE INDEX imports_content ON imports(content_sha256);
CREATE INDEX imports_created ON imports(created_at);
CREATE INDEX imports_status ON imports(status);

CREATE TABLE import_files (
    import_id TEXT NOT NULL REFERENCES imports(id),
    seq       INTEGER NOT NULL,
    data      BLOB NOT NULL,
    PRIMARY KEY (import_id, seq)
);

CREATE TABLE import_lines (
    import_id TEXT NOT NULL REFERENCES imports(id),
    line      INTEGER NOT NULL,
    status    TEXT NOT NULL CHECK (status IN ('ok', 'error', 'skipped')),
    code      TEXT NOT NULL,
    message   TEXT NOT NULL,
    PRIMARY KEY (import_id, line)
);

-- +goose Down
DROP TABLE import_lines;
DROP TABLE import_files;
DROP TABLE imports;
