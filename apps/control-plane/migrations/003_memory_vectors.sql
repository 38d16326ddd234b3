-- Vector similarity for long-term memory. Embeddings are stored as REAL[] (unit length) and
-- compared by dot product in SQL: this runs on embedded PGlite and on any PostgreSQL server,
-- neither of which on this project's machines ships the pgvector extension.
ALTER TABLE memories ADD COLUMN embedding REAL[];
ALTER TABLE memories ADD COLUMN embedding_model TEXT;
