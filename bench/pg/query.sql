-- Who is this customer: the candidates for one query record, best first.
-- pg_resolve_bench prepares this statement once and executes it per query.
--
-- Parameters, all text, NULL when absent:
--   $1 given name   $2 family name   $3 full name (used when $1 and $2 are
--   both absent)    $4 ID number     $5 phones, '|' between values
--   $6 emails, '|' between values    $7 date of birth, YYYY-MM-DD
--   $8 K, the number of rows to return
--
-- The parameters are normalized with the expressions of bench/pg/load.sql.
-- A record is a candidate when any one of these holds:
--   the same ID number; a shared phone; a shared email; the same date of
--   birth and a name trigram similarity of at least 0.2; the same date of
--   birth and the same Double Metaphone code of the family name; or it is
--   among the 20 most similar names at similarity >= 0.3 (the % operator,
--   threshold set by schema.sql).
-- Candidates are ranked by the name similarity (0 to 1) plus a fixed bonus
-- for each field that agrees. The weights were chosen before any run, not
-- fitted to a data set.
WITH q AS (
    SELECT
        nullif(lower(regexp_replace(trim(coalesce(
            nullif(concat_ws(' ', nullif($1::text, ''),
                             nullif($2::text, '')), ''),
            $3::text, '')), '\s+', ' ', 'g')), '') AS full_name,
        nullif(lower(trim($2::text)), '') AS family_name,
        nullif(upper(regexp_replace($4::text, '[^0-9A-Za-z]', '', 'g')), '')
            AS id_number,
        array_remove(regexp_split_to_array(
            regexp_replace(coalesce($5::text, ''), '[^0-9|]', '', 'g'),
            '\|'), '') AS phones,
        array_remove(regexp_split_to_array(lower(coalesce($6::text, '')),
            '\|'), '') AS emails,
        $7::date AS dob
),
candidate AS (
    SELECT r.record_id FROM customer_record r, q
    WHERE r.id_number_norm = q.id_number
    UNION
    SELECT r.record_id FROM customer_record r, q
    WHERE r.phones_norm && q.phones
    UNION
    SELECT r.record_id FROM customer_record r, q
    WHERE r.emails_norm && q.emails
    UNION
    SELECT r.record_id FROM customer_record r, q
    WHERE r.dob = q.dob AND similarity(r.full_name_norm, q.full_name) >= 0.2
    UNION
    SELECT r.record_id FROM customer_record r, q
    WHERE r.dob = q.dob
      AND dmetaphone(r.family_name_norm) = dmetaphone(q.family_name)
    UNION
    (SELECT r.record_id FROM customer_record r, q
     WHERE r.full_name_norm % q.full_name
     ORDER BY similarity(r.full_name_norm, q.full_name) DESC
     LIMIT 20)
)
-- The candidates are fetched by primary key through an array: with a join
-- on candidate, the planner hashed it and read the whole table (seen with
-- EXPLAIN ANALYZE on 96,102 records).
SELECT r.source_system, r.source_id, s.score
FROM customer_record r
CROSS JOIN q
CROSS JOIN LATERAL (
    SELECT coalesce(similarity(r.full_name_norm, q.full_name), 0)
        + CASE WHEN r.id_number_norm = q.id_number THEN 1.0 ELSE 0 END
        + CASE WHEN r.phones_norm && q.phones THEN 0.8 ELSE 0 END
        + CASE WHEN r.emails_norm && q.emails THEN 0.8 ELSE 0 END
        + CASE WHEN r.dob = q.dob THEN 0.6 ELSE 0 END
        + CASE WHEN dmetaphone(r.family_name_norm) = dmetaphone(q.family_name)
               THEN 0.2 ELSE 0 END AS score
) s
WHERE r.record_id = ANY (ARRAY(SELECT record_id FROM candidate))
ORDER BY s.score DESC, r.record_id
LIMIT $8::int;
