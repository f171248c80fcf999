-- Run by the embedded server's superuser at every start, before the service connects as its own role. The service's
-- role logs in but is no superuser: it owns its schema and the objects in it, nothing else (no COPY ... PROGRAM,
-- no other schemas, no roles, no databases).
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'auditstream') THEN
        CREATE ROLE auditstream LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
    END IF;
END $$;
CREATE SCHEMA IF NOT EXISTS auditstream AUTHORIZATION auditstream;
ALTER ROLE auditstream SET search_path = auditstream;

-- A data directory of an earlier version keeps the service's objects in schema public, owned by the superuser:
-- they move into the service's schema with their rows (indexes, constraints and identity sequences follow their
-- tables), Flyway's history included, so the migrations carry on from where they were.
DO $$
DECLARE
    r record;
BEGIN
    IF to_regclass('public.flyway_schema_history') IS NULL THEN
        RETURN;
    END IF;
    FOR r IN
        SELECT c.relname, CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                                         WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END AS kind
        FROM pg_class c
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
          AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                          AND (d.deptype = 'e' OR (c.relkind = 'S' AND d.deptype IN ('a', 'i'))))
    LOOP
        EXECUTE format('ALTER %s public.%I SET SCHEMA auditstream', r.kind, r.relname);
    END LOOP;
    FOR r IN
        SELECT p.proname, pg_get_function_identity_arguments(p.oid) AS arguments
        FROM pg_proc p
        WHERE p.pronamespace = 'public'::regnamespace
          AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                          AND d.deptype = 'e')
    LOOP
        EXECUTE format('ALTER ROUTINE public.%I(%s) SET SCHEMA auditstream', r.proname, r.arguments);
    END LOOP;
END $$;

-- Everything in the service's schema belongs to the service's role (owned sequences and indexes follow their tables).
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT c.relname, CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                                         WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END AS kind
        FROM pg_class c
        WHERE c.relnamespace = 'auditstream'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
          AND c.relowner <> 'auditstream'::regrole
          AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                          AND c.relkind = 'S' AND d.deptype IN ('a', 'i'))
    LOOP
        EXECUTE format('ALTER %s auditstream.%I OWNER TO auditstream', r.kind, r.relname);
    END LOOP;
    FOR r IN
        SELECT p.proname, pg_get_function_identity_arguments(p.oid) AS arguments
        FROM pg_proc p
        WHERE p.pronamespace = 'auditstream'::regnamespace AND p.proowner <> 'auditstream'::regrole
    LOOP
        EXECUTE format('ALTER ROUTINE auditstream.%I(%s) OWNER TO auditstream', r.proname, r.arguments);
    END LOOP;
END $$;
