-- For the study's analysts (README, "Central on PostgreSQL"): schema `analysis`, one view per model, joined to its
-- participant and visit, so a statistician's read-only role reads the master data without the sync tables
-- (GRANT USAGE ON SCHEMA analysis, SELECT ON ALL TABLES IN SCHEMA analysis). Views run with their owner's rights:
-- the analyst needs no right on the tables themselves. PII columns stay as stored (ciphertext; *_hash for lookups).
-- A model deleted through the write path is gone from its table and so from its view; its history stays in the app.
CREATE SCHEMA analysis;
--> statement-breakpoint
CREATE VIEW analysis.subject AS
  SELECT s.id AS subject_id, s.subject_identifier, s.gender, s.registration_datetime, s.dob, s.first_name, s.last_name,
    s.identity_number, s.phone, s.device_id, s.created, s.modified, s.revision
  FROM public.subject s;
--> statement-breakpoint
CREATE VIEW analysis.consent AS
  SELECT s.subject_identifier, c.version, c.consent_datetime, c.is_literate, c.language, c.device_id, c.id AS consent_id, c.subject_id,
    c.created, c.modified, c.revision
  FROM public.consent c JOIN public.subject s ON s.id = c.subject_id;
--> statement-breakpoint
CREATE VIEW analysis.visit AS
  SELECT s.subject_identifier, v.visit_code, v.visit_code_sequence, v.visit_datetime, v.reason, v.device_id, v.id AS visit_id, v.subject_id,
    v.created, v.modified, v.revision
  FROM public.visit v JOIN public.subject s ON s.id = v.subject_id;
--> statement-breakpoint
CREATE VIEW analysis.vital_signs AS
  SELECT s.subject_identifier, v.visit_code, v.visit_code_sequence, v.visit_datetime, t.weight_kg, t.height_cm, t.systolic, t.diastolic,
    t.temperature_c, t.device_id, t.id AS vital_signs_id, t.visit_id, v.subject_id, t.created, t.modified, t.revision
  FROM public.vital_signs t JOIN public.visit v ON v.id = t.visit_id JOIN public.subject s ON s.id = v.subject_id;
--> statement-breakpoint
CREATE VIEW analysis.medical_history AS
  SELECT s.subject_identifier, v.visit_code, v.visit_code_sequence, v.visit_datetime, t.*
  FROM public.medical_history t JOIN public.visit v ON v.id = t.visit_id JOIN public.subject s ON s.id = v.subject_id;
--> statement-breakpoint
CREATE VIEW analysis.specimen_requisition AS
  SELECT s.subject_identifier, v.visit_code, v.visit_code_sequence, v.visit_datetime, t.*
  FROM public.specimen_requisition t JOIN public.visit v ON v.id = t.visit_id JOIN public.subject s ON s.id = v.subject_id;
--> statement-breakpoint
CREATE VIEW analysis.follow_up AS
  SELECT s.id AS subject_id, t.*
  FROM public.follow_up t LEFT JOIN public.subject s ON s.subject_identifier = t.subject_identifier;
--> statement-breakpoint
CREATE VIEW analysis.specimen_reconciliation AS SELECT * FROM public.specimen_reconciliation;
--> statement-breakpoint
CREATE VIEW analysis.specimen_custody AS SELECT * FROM public.specimen_custody;
