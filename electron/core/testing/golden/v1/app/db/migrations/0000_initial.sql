CREATE TABLE `audit_history` (
	`id` text PRIMARY KEY NOT NULL,
	`tx_name` text NOT NULL,
	`record_id` text NOT NULL,
	`action` text NOT NULL,
	`revision` integer NOT NULL,
	`changes` text NOT NULL,
	`user` text NOT NULL,
	`hostname` text NOT NULL,
	`device_id` text NOT NULL,
	`at` text NOT NULL,
	`transaction_id` text
);
--> statement-breakpoint
CREATE INDEX `audit_history_record` ON `audit_history` (`tx_name`,`record_id`);--> statement-breakpoint
CREATE TABLE `consent` (
	`id` text PRIMARY KEY NOT NULL,
	`created` text NOT NULL,
	`modified` text NOT NULL,
	`user_created` text NOT NULL,
	`user_modified` text NOT NULL,
	`hostname_created` text NOT NULL,
	`hostname_modified` text NOT NULL,
	`device_id` text NOT NULL,
	`revision` integer NOT NULL,
	`subject_id` text NOT NULL,
	`version` text NOT NULL,
	`consent_datetime` text NOT NULL,
	`is_literate` integer NOT NULL,
	`language` text NOT NULL,
	FOREIGN KEY (`subject_id`) REFERENCES `subject`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `consent_nk` ON `consent` (`subject_id`,`version`);--> statement-breakpoint
CREATE TABLE `device_state` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `incoming_transaction` (
	`id` text PRIMARY KEY NOT NULL,
	`producer` text NOT NULL,
	`producer_seq` integer NOT NULL,
	`tx_name` text NOT NULL,
	`tx_pk` text NOT NULL,
	`action` text NOT NULL,
	`timestamp` text NOT NULL,
	`schema_version` integer NOT NULL,
	`key_id` text NOT NULL,
	`tx` blob NOT NULL,
	`received_at` text NOT NULL,
	`received_via` text NOT NULL,
	`batch_id` text,
	`is_consumed` integer DEFAULT false NOT NULL,
	`consumed_at` text,
	`is_ignored` integer DEFAULT false NOT NULL,
	`is_error` integer DEFAULT false NOT NULL,
	`error` text,
	`is_conflict` integer DEFAULT false NOT NULL,
	`deferred_count` integer DEFAULT 0 NOT NULL,
	`deferred_reason` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `incoming_producer_seq` ON `incoming_transaction` (`producer`,`producer_seq`);--> statement-breakpoint
CREATE TABLE `medical_history` (
	`id` text PRIMARY KEY NOT NULL,
	`created` text NOT NULL,
	`modified` text NOT NULL,
	`user_created` text NOT NULL,
	`user_modified` text NOT NULL,
	`hostname_created` text NOT NULL,
	`hostname_modified` text NOT NULL,
	`device_id` text NOT NULL,
	`revision` integer NOT NULL,
	`visit_id` text NOT NULL,
	`hypertension` integer NOT NULL,
	`diabetes` integer NOT NULL,
	`hiv_status` text NOT NULL,
	`current_medications` text,
	FOREIGN KEY (`visit_id`) REFERENCES `visit`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `medical_history_nk` ON `medical_history` (`visit_id`);--> statement-breakpoint
CREATE TABLE `outgoing_transaction` (
	`id` text PRIMARY KEY NOT NULL,
	`producer` text NOT NULL,
	`producer_seq` integer NOT NULL,
	`tx_name` text NOT NULL,
	`tx_pk` text NOT NULL,
	`action` text NOT NULL,
	`timestamp` text NOT NULL,
	`schema_version` integer NOT NULL,
	`key_id` text NOT NULL,
	`tx` blob NOT NULL,
	`is_consumed_middleman` integer DEFAULT false NOT NULL,
	`consumed_middleman_at` text,
	`consumer_middleman` text,
	`is_consumed_server` integer DEFAULT false NOT NULL,
	`consumed_server_at` text,
	`consumer_server` text,
	`batch_id` text,
	`batch_seq` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `outgoing_producer_seq` ON `outgoing_transaction` (`producer`,`producer_seq`);--> statement-breakpoint
CREATE TABLE `producer_cursor` (
	`producer` text PRIMARY KEY NOT NULL,
	`applied_seq` integer NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `specimen_reconciliation` (
	`id` text PRIMARY KEY NOT NULL,
	`created` text NOT NULL,
	`modified` text NOT NULL,
	`user_created` text NOT NULL,
	`user_modified` text NOT NULL,
	`hostname_created` text NOT NULL,
	`hostname_modified` text NOT NULL,
	`device_id` text NOT NULL,
	`revision` integer NOT NULL,
	`reconciliation_identifier` text NOT NULL,
	`reconciled_at` text NOT NULL,
	`location` text NOT NULL,
	`matched` text NOT NULL,
	`missing` text NOT NULL,
	`unexpected` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `specimen_reconciliation_nk` ON `specimen_reconciliation` (`reconciliation_identifier`);--> statement-breakpoint
CREATE TABLE `specimen_requisition` (
	`id` text PRIMARY KEY NOT NULL,
	`created` text NOT NULL,
	`modified` text NOT NULL,
	`user_created` text NOT NULL,
	`user_modified` text NOT NULL,
	`hostname_created` text NOT NULL,
	`hostname_modified` text NOT NULL,
	`device_id` text NOT NULL,
	`revision` integer NOT NULL,
	`visit_id` text NOT NULL,
	`requisition_identifier` text NOT NULL,
	`panel` text NOT NULL,
	`specimen_type` text NOT NULL,
	`drawn_datetime` text NOT NULL,
	`item_count` integer NOT NULL,
	FOREIGN KEY (`visit_id`) REFERENCES `visit`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `specimen_requisition_nk` ON `specimen_requisition` (`requisition_identifier`);--> statement-breakpoint
CREATE TABLE `subject` (
	`id` text PRIMARY KEY NOT NULL,
	`created` text NOT NULL,
	`modified` text NOT NULL,
	`user_created` text NOT NULL,
	`user_modified` text NOT NULL,
	`hostname_created` text NOT NULL,
	`hostname_modified` text NOT NULL,
	`device_id` text NOT NULL,
	`revision` integer NOT NULL,
	`subject_identifier` text NOT NULL,
	`first_name` text NOT NULL,
	`first_name_hash` text NOT NULL,
	`last_name` text NOT NULL,
	`last_name_hash` text NOT NULL,
	`dob` text NOT NULL,
	`dob_hash` text NOT NULL,
	`identity_number` text NOT NULL,
	`identity_number_hash` text NOT NULL,
	`phone` text,
	`phone_hash` text,
	`gender` text NOT NULL,
	`registration_datetime` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `subject_nk` ON `subject` (`subject_identifier`);--> statement-breakpoint
CREATE INDEX `subject_identity_number_hash` ON `subject` (`identity_number_hash`);--> statement-breakpoint
CREATE INDEX `subject_last_name_hash` ON `subject` (`last_name_hash`);--> statement-breakpoint
CREATE TABLE `sync_conflict` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`incoming_id` text NOT NULL,
	`tx_name` text NOT NULL,
	`tx_pk` text NOT NULL,
	`local_revision` integer,
	`incoming_base_revision` integer NOT NULL,
	`local_record` text,
	`incoming_record` text NOT NULL,
	`detected_at` text NOT NULL,
	`resolved_at` text,
	FOREIGN KEY (`incoming_id`) REFERENCES `incoming_transaction`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `sync_conflict_incoming` ON `sync_conflict` (`incoming_id`);--> statement-breakpoint
CREATE TABLE `visit` (
	`id` text PRIMARY KEY NOT NULL,
	`created` text NOT NULL,
	`modified` text NOT NULL,
	`user_created` text NOT NULL,
	`user_modified` text NOT NULL,
	`hostname_created` text NOT NULL,
	`hostname_modified` text NOT NULL,
	`device_id` text NOT NULL,
	`revision` integer NOT NULL,
	`subject_id` text NOT NULL,
	`visit_code` text NOT NULL,
	`visit_code_sequence` integer NOT NULL,
	`visit_datetime` text NOT NULL,
	`reason` text NOT NULL,
	FOREIGN KEY (`subject_id`) REFERENCES `subject`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `visit_nk` ON `visit` (`subject_id`,`visit_code`,`visit_code_sequence`);--> statement-breakpoint
CREATE TABLE `vital_signs` (
	`id` text PRIMARY KEY NOT NULL,
	`created` text NOT NULL,
	`modified` text NOT NULL,
	`user_created` text NOT NULL,
	`user_modified` text NOT NULL,
	`hostname_created` text NOT NULL,
	`hostname_modified` text NOT NULL,
	`device_id` text NOT NULL,
	`revision` integer NOT NULL,
	`visit_id` text NOT NULL,
	`weight_kg` real,
	`height_cm` real,
	`systolic` integer,
	`diastolic` integer,
	`temperature_c` real,
	FOREIGN KEY (`visit_id`) REFERENCES `visit`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `vital_signs_nk` ON `vital_signs` (`visit_id`);