-- Schema 2: oxygen saturation on vital signs (older payloads are upcast with null: electron/core/domain/upcast.ts),
-- and in the analysts' view (a replaced view may only gain columns at its end).
ALTER TABLE "vital_signs" ADD COLUMN "oxygen_saturation" bigint;
--> statement-breakpoint
CREATE OR REPLACE VIEW analysis.vital_signs AS
  SELECT s.subject_identifier, v.visit_code, v.visit_code_sequence, v.visit_datetime, t.weight_kg, t.height_cm, t.systolic, t.diastolic,
    t.temperature_c, t.device_id, t.id AS vital_signs_id, t.visit_id, v.subject_id, t.created, t.modified, t.revision, t.oxygen_saturation
  FROM public.vital_signs t JOIN public.visit v ON v.id = t.visit_id JOIN public.subject s ON s.id = v.subject_id;
