-- Loads the canonical CSV on psql's standard input into customer_record,
-- derives the normalized columns, builds the indexes and refreshes the
-- planner statistics.
--
--   psql -d bench -f bench/pg/load.sql <records.csv
\set ON_ERROR_STOP on

\copy record_staging FROM pstdin WITH (FORMAT csv, HEADER true)

-- The same expressions normalize the parameters in bench/pg/query.sql.
INSERT INTO customer_record (
    source_system, source_id, name, given_name, family_name, id_type,
    id_number, phone, email, address, gender, full_name_norm,
    family_name_norm, id_number_norm, phones_norm, emails_norm, dob)
SELECT
    source_system, source_id, name, given_name, family_name, id_type,
    id_number, phone, email, address, gender,
    nullif(lower(regexp_replace(trim(coalesce(
        nullif(concat_ws(' ', nullif(given_name, ''),
                         nullif(family_name, '')), ''),
        name, '')), '\s+', ' ', 'g')), ''),
    nullif(lower(trim(family_name)), ''),
    nullif(upper(regexp_replace(id_number, '[^0-9A-Za-z]', '', 'g')), ''),
    array_remove(regexp_split_to_array(
        regexp_replace(coalesce(phone, ''), '[^0-9|]', '', 'g'), '\|'), ''),
    array_remove(regexp_split_to_array(lower(coalesce(email, '')), '\|'), ''),
    nullif(dob, '')::date
FROM record_staging
ON CONFLICT (source_system, source_id) DO NOTHING;

TRUNCATE record_staging;

-- The indexes of the candidate search: trigram on the full name (the %
-- operator and similarity()), exact ID number, any shared phone or email,
-- date of birth, and the Double Metaphone code of the family name.
CREATE INDEX customer_record_name_trgm
    ON customer_record USING gin (full_name_norm gin_trgm_ops);
CREATE INDEX customer_record_id_number
    ON customer_record (id_number_norm);
CREATE INDEX customer_record_phones
    ON customer_record USING gin (phones_norm);
CREATE INDEX customer_record_emails
    ON customer_record USING gin (emails_norm);
CREATE INDEX customer_record_dob
    ON customer_record (dob);
CREATE INDEX customer_record_family_dmetaphone
    ON customer_record (dmetaphone(family_name_norm));

VACUUM ANALYZE customer_record;

SELECT count(*) AS records,
       pg_size_pretty(pg_total_relation_size('customer_record')) AS size
FROM customer_record;
