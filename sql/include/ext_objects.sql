-- pg_temp.ext_objects(): reclock's objects as text, with each function's
-- labels and signature, each view's definition, options and privileges, and
-- each table's columns, and what pg_dump dumps of them (sql/upgrade.sql compares an upgraded and a fresh one)
CREATE FUNCTION pg_temp.ext_objects() RETURNS text LANGUAGE sql AS $$
  SELECT string_agg(d, E'\n' ORDER BY d) FROM (
    SELECT pg_describe_object(classid, objid, 0) ||
           coalesce((SELECT ' ' || p.provolatile::text || p.proparallel::text || p.prosecdef::text || coalesce(p.proconfig::text, '') ||
                            ' ' || pg_get_function_identity_arguments(p.oid) || ' -> ' || pg_get_function_result(p.oid)
                     FROM pg_proc p WHERE classid = 'pg_proc'::regclass AND p.oid = objid), '') ||
           coalesce((SELECT ' ' || pg_get_viewdef(c.oid) || coalesce(c.reloptions::text, '') || coalesce(c.relacl::text, '')
                     FROM pg_class c WHERE classid = 'pg_class'::regclass AND c.oid = objid), '') ||
           coalesce((SELECT ' ' || string_agg(a.attname || ':' || format_type(a.atttypid, a.atttypmod), ',' ORDER BY a.attnum)
                     FROM pg_attribute a WHERE classid = 'pg_class'::regclass AND a.attrelid = objid AND a.attnum > 0
                       AND NOT a.attisdropped), '') AS d
      FROM pg_depend WHERE refclassid = 'pg_extension'::regclass
       AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'reclock') AND deptype = 'e'
    UNION ALL
    SELECT 'dumped: ' || extconfig::regclass[]::text || ' ' || coalesce(extcondition::text, '')
      FROM pg_extension WHERE extname = 'reclock') s
$$;
