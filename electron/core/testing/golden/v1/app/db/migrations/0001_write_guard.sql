-- Every write to a synced table must come through the write path (electron/core/write-path.ts), which opens
-- the guard edc_write_guard() only inside its own transaction. Any other writer (another tool, a stray query)
-- is refused. audit_history is append-only; outgoing_transaction rows are only inserted by the write path.
CREATE TRIGGER `subject_guard_insert` BEFORE INSERT ON `subject` WHEN edc_write_guard() = 0 BEGIN SELECT RAISE(ABORT, 'WRITE_OUTSIDE_PATH: subject'); END;
--> statement-breakpoint
CREATE TRIGGER `subject_guard_update` BEFORE UPDATE ON `subject` WHEN edc_write_guard() = 0 BEGIN SELECT RAISE(ABORT, 'WRITE_OUTSIDE_PATH: subject'); END;
--> statement-breakpoint
CREATE TRIGGER `subject_guard_delete` BEFORE DELETE ON `subject` WHEN edc_write_guard() = 0 BEGIN SELECT RAISE(ABORT, 'WRITE_OUTSIDE_PATH: subject'); END;
--> statement-breakpoint
CREATE TRIGGER `consent_guard_insert` BEFORE INSERT ON `consent` WHEN edc_write_guard() = 0 BEGIN SELECT RAISE(ABORT, 'WRITE_OUTSIDE_PATH: consent'); END;
--> statement-breakpoint
CREATE TRIGGER `consent_guard_update` BEFORE UPDATE ON `consent` WHEN edc_write_guard() = 0 BEGIN SELECT RAISE(ABORT, 'WRITE_OUTSIDE_PATH: consent'); END;
--> statement-breakpoint
CREATE TRIGGER `consent_guard_delete` BEFORE DELETE ON `consent` WHEN edc_write_guard() = 0 BEGIN SELECT RAISE(ABORT, 'WRITE_OUTSIDE_PATH: consent'); END;
--> statement-breakpoint
CREATE TRIGGER `visit_guard_insert` BEFORE INSERT ON `visit` WHEN edc_write_guard() = 0 BEGIN SELECT RAISE(ABORT, 'WRITE_OUTSIDE_PATH: visit'); END;
--> statement-breakpoint
CREATE TRIGGER `visit_guard_update` BEFORE UPDATE ON `visit` WHEN edc_write_guard() = 0 BEGIN SELECT RAISE(ABORT, 'WRITE_OUTSIDE_PATH: visit'); END;
--> statement-breakpoint
CREATE TRIGGER `visit_guard_delete` BEFORE DELETE ON `visit` WHEN edc_write_guard() = 0 BEGIN SELECT RAISE(ABORT, 'WRITE_OUTSIDE_PATH: visit'); END;
--> statement-breakpoint
CREATE TRIGGER `vital_signs_guard_insert` BEFORE INSERT ON `vital_signs` WHEN edc_write_guard() = 0 BEGIN SELECT RAISE(ABORT, 'WRITE_OUTSIDE_PATH: vital_signs'); END;
--> statement-breakpoint
CREATE TRIGGER `vital_signs_guard_update` BEFORE UPDATE ON `vital_signs` WHEN edc_write_guard() = 0 BEGIN SELECT RAISE(ABORT, 'WRITE_OUTSIDE_PATH: vital_signs'); END;
--> statement-breakpoint
CREATE TRIGGER `vital_signs_guard_delete` BEFORE DELETE ON `vital_signs` WHEN edc_write_guard() = 0 BEGIN SELECT RAISE(ABORT, 'WRITE_OUTSIDE_PATH: vital_signs'); END;
--> statement-breakpoint
CREATE TRIGGER `medical_history_guard_insert` BEFORE INSERT ON `medical_history` WHEN edc_write_guard() = 0 BEGIN SELECT RAISE(ABORT, 'WRITE_OUTSIDE_PATH: medical_history'); END;
--> statement-breakpoint
CREATE TRIGGER `medical_history_guard_update` BEFORE UPDATE ON `medical_history` WHEN edc_write_guard() = 0 BEGIN SELECT RAISE(ABORT, 'WRITE_OUTSIDE_PATH: medical_history'); END;
--> statement-breakpoint
CREATE TRIGGER `medical_history_guard_delete` BEFORE DELETE ON `medical_history` WHEN edc_write_guard() = 0 BEGIN SELECT RAISE(ABORT, 'WRITE_OUTSIDE_PATH: medical_history'); END;
--> statement-breakpoint
CREATE TRIGGER `specimen_requisition_guard_insert` BEFORE INSERT ON `specimen_requisition` WHEN edc_write_guard() = 0 BEGIN SELECT RAISE(ABORT, 'WRITE_OUTSIDE_PATH: specimen_requisition'); END;
--> statement-breakpoint
CREATE TRIGGER `specimen_requisition_guard_update` BEFORE UPDATE ON `specimen_requisition` WHEN edc_write_guard() = 0 BEGIN SELECT RAISE(ABORT, 'WRITE_OUTSIDE_PATH: specimen_requisition'); END;
--> statement-breakpoint
CREATE TRIGGER `specimen_requisition_guard_delete` BEFORE DELETE ON `specimen_requisition` WHEN edc_write_guard() = 0 BEGIN SELECT RAISE(ABORT, 'WRITE_OUTSIDE_PATH: specimen_requisition'); END;
--> statement-breakpoint
CREATE TRIGGER `specimen_reconciliation_guard_insert` BEFORE INSERT ON `specimen_reconciliation` WHEN edc_write_guard() = 0 BEGIN SELECT RAISE(ABORT, 'WRITE_OUTSIDE_PATH: specimen_reconciliation'); END;
--> statement-breakpoint
CREATE TRIGGER `specimen_reconciliation_guard_update` BEFORE UPDATE ON `specimen_reconciliation` WHEN edc_write_guard() = 0 BEGIN SELECT RAISE(ABORT, 'WRITE_OUTSIDE_PATH: specimen_reconciliation'); END;
--> statement-breakpoint
CREATE TRIGGER `specimen_reconciliation_guard_delete` BEFORE DELETE ON `specimen_reconciliation` WHEN edc_write_guard() = 0 BEGIN SELECT RAISE(ABORT, 'WRITE_OUTSIDE_PATH: specimen_reconciliation'); END;
--> statement-breakpoint
CREATE TRIGGER `audit_history_guard_insert` BEFORE INSERT ON `audit_history` WHEN edc_write_guard() = 0 BEGIN SELECT RAISE(ABORT, 'WRITE_OUTSIDE_PATH: audit_history'); END;
--> statement-breakpoint
CREATE TRIGGER `audit_history_no_update` BEFORE UPDATE ON `audit_history` BEGIN SELECT RAISE(ABORT, 'audit_history is append-only'); END;
--> statement-breakpoint
CREATE TRIGGER `audit_history_no_delete` BEFORE DELETE ON `audit_history` BEGIN SELECT RAISE(ABORT, 'audit_history is append-only'); END;
--> statement-breakpoint
CREATE TRIGGER `outgoing_transaction_guard_insert` BEFORE INSERT ON `outgoing_transaction` WHEN edc_write_guard() = 0 BEGIN SELECT RAISE(ABORT, 'WRITE_OUTSIDE_PATH: outgoing_transaction'); END;
