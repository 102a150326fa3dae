-- try(sql): run a statement; 'ok', or its SQLSTATE and message with times
-- masked (the guard names the expiry, which moves with the clock).
-- try_verbose(sql) adds the detail and the hint.
CREATE OR REPLACE FUNCTION try(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE sql;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' ||
    regexp_replace(SQLERRM, '\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?[+-]\d\d', '<time>', 'g');
END $$;
CREATE OR REPLACE FUNCTION try_verbose(sql text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE d text; h text;
BEGIN
  EXECUTE sql;
  RETURN NEXT 'ok';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
  RETURN NEXT SQLSTATE || ': ' ||
    regexp_replace(SQLERRM, '\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?[+-]\d\d', '<time>', 'g');
  RETURN NEXT 'DETAIL: ' || d;
  RETURN NEXT 'HINT: ' || h;
END $$;
