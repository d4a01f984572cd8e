CREATE TABLE `clock_reading` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`device_id` text NOT NULL,
	`at` text NOT NULL,
	`device_clock` text NOT NULL,
	`skew_ms` integer NOT NULL,
	`via` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `clock_reading_device` ON `clock_reading` (`device_id`,`id`);--> statement-breakpoint
CREATE TABLE `fleet_device` (
	`device_id` text PRIMARY KEY NOT NULL,
	`role` text,
	`first_seen_at` text NOT NULL,
	`last_seen_at` text NOT NULL,
	`last_via` text NOT NULL,
	`made_seq` integer,
	`received_seq` integer DEFAULT 0 NOT NULL,
	`site_seq` integer,
	`central_seq` integer,
	`central_extra` text,
	`app_version` text,
	`schema_version` integer,
	`key_ids` text,
	`clock_skew_ms` integer,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `incoming_export_batch` ON `incoming_transaction` (`export_batch_id`);