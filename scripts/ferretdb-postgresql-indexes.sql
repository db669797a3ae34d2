SET client_min_messages = warning;
-- FerretDB v1 pushes an equality filter down as `(_jsonb -> 'field') @> '<value>'`, which its own
-- btree indexes on `(_jsonb -> 'field')` cannot serve: every lookup, even by _id, scans the table.
-- For each index FerretDB creates, add a GIN index on the same leading expression, which serves `@>`.
CREATE OR REPLACE FUNCTION gatehouse_gin_beside_ferretdb_index() RETURNS event_trigger
LANGUAGE plpgsql AS $$
DECLARE
  command record;
  expression text;
  method text;
  target regclass;
  gin_name text;
BEGIN
  FOR command IN SELECT * FROM pg_event_trigger_ddl_commands() WHERE command_tag = 'CREATE INDEX' AND object_type = 'index' LOOP
    SELECT am.amname, i.indrelid::regclass INTO method, target
      FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
      WHERE i.indexrelid = command.objid;
    CONTINUE WHEN method IS DISTINCT FROM 'btree';
    expression := pg_get_indexdef(command.objid, 1, true);
    CONTINUE WHEN expression !~ '^\(?_jsonb -> ''[^'']+''::text\)?$';
    gin_name := left(md5(command.object_identity), 20) || '_gatehouse_gin';
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %s USING gin ((%s) jsonb_path_ops)', gin_name, target, expression);
  END LOOP;
END $$;
DROP EVENT TRIGGER IF EXISTS gatehouse_gin_beside_ferretdb_index;
CREATE EVENT TRIGGER gatehouse_gin_beside_ferretdb_index ON ddl_command_end WHEN TAG IN ('CREATE INDEX')
  EXECUTE FUNCTION gatehouse_gin_beside_ferretdb_index();
-- An index dropped through FerretDB (e.g. one Gatehouse no longer uses, dropped at startup) takes
-- its GIN twin with it: the twin alone would serve nothing and still cost every insert.
CREATE OR REPLACE FUNCTION gatehouse_gin_twin_dropped() RETURNS event_trigger
LANGUAGE plpgsql AS $$
DECLARE
  dropped record;
BEGIN
  FOR dropped IN SELECT * FROM pg_event_trigger_dropped_objects() WHERE object_type = 'index' AND NOT is_temporary LOOP
    CONTINUE WHEN dropped.object_name LIKE '%\_gatehouse\_gin';
    EXECUTE format('DROP INDEX IF EXISTS %I.%I', dropped.schema_name, left(md5(dropped.object_identity), 20) || '_gatehouse_gin');
  END LOOP;
END $$;
DROP EVENT TRIGGER IF EXISTS gatehouse_gin_twin_dropped;
CREATE EVENT TRIGGER gatehouse_gin_twin_dropped ON sql_drop WHEN TAG IN ('DROP INDEX')
  EXECUTE FUNCTION gatehouse_gin_twin_dropped();
