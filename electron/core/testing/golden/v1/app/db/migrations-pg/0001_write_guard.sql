-- The write guard of SQLite's migrations 0001, 0008, 0009 and 0010 for PostgreSQL. Every write to a synced table
-- must come through the write path (electron/core/write-path.ts), which sets edc.write_guard = '1' for its own
-- transaction only (set_config(…, true)); any other writer (psql, another tool, a stray query) is refused.
-- audit_history is append-only; outgoing_transaction rows are only inserted by the write path, never deleted, and
-- outside it only their delivery marks may change.
CREATE FUNCTION edc_write_guard_open() RETURNS boolean LANGUAGE sql STABLE AS $$ SELECT coalesce(current_setting('edc.write_guard', true), '') = '1' $$;
--> statement-breakpoint
CREATE FUNCTION edc_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT edc_write_guard_open() THEN RAISE EXCEPTION 'WRITE_OUTSIDE_PATH: %', TG_TABLE_NAME; END IF;
  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE FUNCTION edc_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END $$;
--> statement-breakpoint
CREATE FUNCTION edc_outgoing_no_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'WRITE_OUTSIDE_PATH: outgoing_transaction rows are never deleted';
END $$;
--> statement-breakpoint
CREATE FUNCTION edc_outgoing_marks_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT edc_write_guard_open() AND (
    NEW.id <> OLD.id OR NEW.producer <> OLD.producer OR NEW.producer_seq <> OLD.producer_seq OR NEW.tx_name <> OLD.tx_name
    OR NEW.tx_pk <> OLD.tx_pk OR NEW.action <> OLD.action OR NEW.timestamp <> OLD.timestamp OR NEW.schema_version <> OLD.schema_version
    OR NEW.key_id <> OLD.key_id OR NEW.tx <> OLD.tx
    OR (OLD.sig IS NOT NULL AND (NEW.sig IS NULL OR NEW.sig <> OLD.sig))) THEN
    RAISE EXCEPTION 'WRITE_OUTSIDE_PATH: only delivery marks of outgoing_transaction may change';
  END IF;
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER "subject_guard" BEFORE INSERT OR UPDATE OR DELETE ON "subject" FOR EACH ROW EXECUTE FUNCTION edc_guard();
--> statement-breakpoint
CREATE TRIGGER "consent_guard" BEFORE INSERT OR UPDATE OR DELETE ON "consent" FOR EACH ROW EXECUTE FUNCTION edc_guard();
--> statement-breakpoint
CREATE TRIGGER "visit_guard" BEFORE INSERT OR UPDATE OR DELETE ON "visit" FOR EACH ROW EXECUTE FUNCTION edc_guard();
--> statement-breakpoint
CREATE TRIGGER "vital_signs_guard" BEFORE INSERT OR UPDATE OR DELETE ON "vital_signs" FOR EACH ROW EXECUTE FUNCTION edc_guard();
--> statement-breakpoint
CREATE TRIGGER "medical_history_guard" BEFORE INSERT OR UPDATE OR DELETE ON "medical_history" FOR EACH ROW EXECUTE FUNCTION edc_guard();
--> statement-breakpoint
CREATE TRIGGER "specimen_requisition_guard" BEFORE INSERT OR UPDATE OR DELETE ON "specimen_requisition" FOR EACH ROW EXECUTE FUNCTION edc_guard();
--> statement-breakpoint
CREATE TRIGGER "specimen_reconciliation_guard" BEFORE INSERT OR UPDATE OR DELETE ON "specimen_reconciliation" FOR EACH ROW EXECUTE FUNCTION edc_guard();
--> statement-breakpoint
CREATE TRIGGER "follow_up_guard" BEFORE INSERT OR UPDATE OR DELETE ON "follow_up" FOR EACH ROW EXECUTE FUNCTION edc_guard();
--> statement-breakpoint
CREATE TRIGGER "specimen_custody_guard" BEFORE INSERT OR UPDATE OR DELETE ON "specimen_custody" FOR EACH ROW EXECUTE FUNCTION edc_guard();
--> statement-breakpoint
CREATE TRIGGER "audit_history_guard_insert" BEFORE INSERT ON "audit_history" FOR EACH ROW EXECUTE FUNCTION edc_guard();
--> statement-breakpoint
CREATE TRIGGER "audit_history_append_only" BEFORE UPDATE OR DELETE ON "audit_history" FOR EACH ROW EXECUTE FUNCTION edc_append_only();
--> statement-breakpoint
CREATE TRIGGER "outgoing_transaction_guard_insert" BEFORE INSERT ON "outgoing_transaction" FOR EACH ROW EXECUTE FUNCTION edc_guard();
--> statement-breakpoint
CREATE TRIGGER "outgoing_transaction_no_delete" BEFORE DELETE ON "outgoing_transaction" FOR EACH ROW EXECUTE FUNCTION edc_outgoing_no_delete();
--> statement-breakpoint
CREATE TRIGGER "outgoing_transaction_guard_update" BEFORE UPDATE ON "outgoing_transaction" FOR EACH ROW EXECUTE FUNCTION edc_outgoing_marks_only();
--> statement-breakpoint
-- TRUNCATE skips row triggers: refused on the guarded tables outright.
CREATE FUNCTION edc_no_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'WRITE_OUTSIDE_PATH: %', TG_TABLE_NAME;
END $$;
--> statement-breakpoint
CREATE TRIGGER "subject_no_truncate" BEFORE TRUNCATE ON "subject" FOR EACH STATEMENT EXECUTE FUNCTION edc_no_truncate();
--> statement-breakpoint
CREATE TRIGGER "consent_no_truncate" BEFORE TRUNCATE ON "consent" FOR EACH STATEMENT EXECUTE FUNCTION edc_no_truncate();
--> statement-breakpoint
CREATE TRIGGER "visit_no_truncate" BEFORE TRUNCATE ON "visit" FOR EACH STATEMENT EXECUTE FUNCTION edc_no_truncate();
--> statement-breakpoint
CREATE TRIGGER "vital_signs_no_truncate" BEFORE TRUNCATE ON "vital_signs" FOR EACH STATEMENT EXECUTE FUNCTION edc_no_truncate();
--> statement-breakpoint
CREATE TRIGGER "medical_history_no_truncate" BEFORE TRUNCATE ON "medical_history" FOR EACH STATEMENT EXECUTE FUNCTION edc_no_truncate();
--> statement-breakpoint
CREATE TRIGGER "specimen_requisition_no_truncate" BEFORE TRUNCATE ON "specimen_requisition" FOR EACH STATEMENT EXECUTE FUNCTION edc_no_truncate();
--> statement-breakpoint
CREATE TRIGGER "specimen_reconciliation_no_truncate" BEFORE TRUNCATE ON "specimen_reconciliation" FOR EACH STATEMENT EXECUTE FUNCTION edc_no_truncate();
--> statement-breakpoint
CREATE TRIGGER "follow_up_no_truncate" BEFORE TRUNCATE ON "follow_up" FOR EACH STATEMENT EXECUTE FUNCTION edc_no_truncate();
--> statement-breakpoint
CREATE TRIGGER "specimen_custody_no_truncate" BEFORE TRUNCATE ON "specimen_custody" FOR EACH STATEMENT EXECUTE FUNCTION edc_no_truncate();
--> statement-breakpoint
CREATE TRIGGER "audit_history_no_truncate" BEFORE TRUNCATE ON "audit_history" FOR EACH STATEMENT EXECUTE FUNCTION edc_no_truncate();
--> statement-breakpoint
CREATE TRIGGER "outgoing_transaction_no_truncate" BEFORE TRUNCATE ON "outgoing_transaction" FOR EACH STATEMENT EXECUTE FUNCTION edc_no_truncate();
