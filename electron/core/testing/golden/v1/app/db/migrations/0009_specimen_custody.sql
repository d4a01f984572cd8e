CREATE TABLE `specimen_custody` (
	`id` text PRIMARY KEY NOT NULL,
	`created` text NOT NULL,
	`modified` text NOT NULL,
	`user_created` text NOT NULL,
	`user_modified` text NOT NULL,
	`hostname_created` text NOT NULL,
	`hostname_modified` text NOT NULL,
	`device_id` text NOT NULL,
	`revision` integer NOT NULL,
	`custody_identifier` text NOT NULL,
	`kind` text NOT NULL,
	`from_device` text NOT NULL,
	`to_device` text,
	`scope` text NOT NULL,
	`handed_at` text NOT NULL,
	`tubes` text NOT NULL,
	`handover_key` text,
	`handover_sig` text,
	`received_at` text,
	`matched` text,
	`missing` text,
	`unexpected` text,
	`reasons` text,
	`receipt_key` text,
	`receipt_sig` text,
	`reconciliation_identifier` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `specimen_custody_nk` ON `specimen_custody` (`custody_identifier`);
--> statement-breakpoint
-- Custody records are a synced model: only the write path may change them (as 0001_write_guard does for the others).
CREATE TRIGGER `specimen_custody_guard_insert` BEFORE INSERT ON `specimen_custody` WHEN edc_write_guard() = 0 BEGIN SELECT RAISE(ABORT, 'WRITE_OUTSIDE_PATH: specimen_custody'); END;
--> statement-breakpoint
CREATE TRIGGER `specimen_custody_guard_update` BEFORE UPDATE ON `specimen_custody` WHEN edc_write_guard() = 0 BEGIN SELECT RAISE(ABORT, 'WRITE_OUTSIDE_PATH: specimen_custody'); END;
--> statement-breakpoint
CREATE TRIGGER `specimen_custody_guard_delete` BEFORE DELETE ON `specimen_custody` WHEN edc_write_guard() = 0 BEGIN SELECT RAISE(ABORT, 'WRITE_OUTSIDE_PATH: specimen_custody'); END;
