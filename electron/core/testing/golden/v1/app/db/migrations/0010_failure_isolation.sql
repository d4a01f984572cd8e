ALTER TABLE `incoming_transaction` ADD `deferred_since` text;--> statement-breakpoint
ALTER TABLE `incoming_transaction` ADD `blocked_by` text;--> statement-breakpoint
ALTER TABLE `incoming_transaction` ADD `blocked_reason` text;--> statement-breakpoint
ALTER TABLE `incoming_transaction` ADD `resend_requested_at` text;--> statement-breakpoint
ALTER TABLE `incoming_transaction` ADD `resend_answered_at` text;--> statement-breakpoint
ALTER TABLE `incoming_transaction` ADD `resend_count` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `incoming_transaction` ADD `retry_due` integer DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX `incoming_failed_pk` ON `incoming_transaction` (`tx_pk`) WHERE is_error = 1 OR blocked_by IS NOT NULL;--> statement-breakpoint
CREATE INDEX `incoming_blocked_by` ON `incoming_transaction` (`blocked_by`) WHERE blocked_by IS NOT NULL;--> statement-breakpoint
CREATE INDEX `incoming_resend` ON `incoming_transaction` (`producer`) WHERE resend_requested_at IS NOT NULL AND resend_answered_at IS NULL;--> statement-breakpoint
CREATE INDEX `incoming_retry_due` ON `incoming_transaction` (`retry_due`) WHERE retry_due = 1;--> statement-breakpoint
-- The outbox cannot be edited behind the app's back: a deleted or altered outgoing transaction is a permanent gap
-- (or a forged record) downstream. No delete, ever; an update may change only the delivery marks, except inside
-- the app's own guarded transaction (renumbering never-delivered transactions after a restore from a backup). A
-- signature may be added to an unsigned row (the one-time backlog signing), never changed or removed.
CREATE TRIGGER `outgoing_transaction_no_delete` BEFORE DELETE ON `outgoing_transaction` BEGIN SELECT RAISE(ABORT, 'WRITE_OUTSIDE_PATH: outgoing_transaction rows are never deleted'); END;
--> statement-breakpoint
CREATE TRIGGER `outgoing_transaction_guard_update` BEFORE UPDATE ON `outgoing_transaction` WHEN edc_write_guard() = 0 AND (
  NEW.id <> OLD.id OR NEW.producer <> OLD.producer OR NEW.producer_seq <> OLD.producer_seq OR NEW.tx_name <> OLD.tx_name
  OR NEW.tx_pk <> OLD.tx_pk OR NEW.action <> OLD.action OR NEW.timestamp <> OLD.timestamp OR NEW.schema_version <> OLD.schema_version
  OR NEW.key_id <> OLD.key_id OR NEW.tx <> OLD.tx
  OR (OLD.sig IS NOT NULL AND (NEW.sig IS NULL OR NEW.sig <> OLD.sig))) BEGIN SELECT RAISE(ABORT, 'WRITE_OUTSIDE_PATH: only delivery marks of outgoing_transaction may change'); END;
