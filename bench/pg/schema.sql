-- Schema of the PostgreSQL side of bench/pg-compare.sh: one row per source
-- record, with the raw canonical fields and the normalized columns that the
-- candidate search and the score read. Run once in an empty database.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS fuzzystrmatch;

-- The canonical CSV of pg_export, column for column.
CREATE UNLOGGED TABLE record_staging (
    source_system text,
    source_id text,
    name text,
    given_name text,
    family_name text,
    id_type text,
    id_number text,
    phone text,
    email text,
    address text,
    dob text,
    gender text
);

CREATE TABLE customer_record (
    record_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_system text NOT NULL,
    source_id text NOT NULL,
    name text,
    given_name text,
    family_name text,
    id_type text,
    id_number text,
    phone text,
    email text,
    address text,
    gender text,
    -- Normalized columns: see bench/pg/load.sql for how each is derived.
    full_name_norm text,     -- "given family" (else name), lower case
    family_name_norm text,   -- lower case
    id_number_norm text,     -- upper case, letters and digits only
    phones_norm text[],      -- each phone, digits only
    emails_norm text[],      -- each email, lower case
    dob date,
    UNIQUE (source_system, source_id)
);

-- The default threshold of the % operator is 0.3; it is written here so
-- that the figure in bench/PG-COMPARE.md is the one in force.
DO $$
BEGIN
    EXECUTE format('ALTER DATABASE %I SET pg_trgm.similarity_threshold = 0.3',
                   current_database());
END
$$;
