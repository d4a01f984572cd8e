CREATE TABLE `file_batch` (
	`batch_id` text PRIMARY KEY NOT NULL,
	`batch_seq` integer NOT NULL,
	`previous_batch_id` text,
	`status` text NOT NULL,
	`file_name` text NOT NULL,
	`count` integer NOT NULL,
	`sha256` text,
	`bytes` integer,
	`created_at` text NOT NULL,
	`written_at` text,
	`sent_at` text,
	`acknowledged_at` text,
	`receipt` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `file_batch_seq` ON `file_batch` (`batch_seq`);--> statement-breakpoint
CREATE TABLE `file_import` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`file_name` text NOT NULL,
	`batch_id` text,
	`producer` text,
	`batch_seq` integer,
	`status` text NOT NULL,
	`reason` text,
	`count` integer,
	`accepted` integer,
	`duplicates` integer,
	`sha256` text,
	`at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `file_import_batch` ON `file_import` (`batch_id`);--> statement-breakpoint
CREATE INDEX `file_import_producer_seq` ON `file_import` (`producer`,`batch_seq`);--> statement-breakpoint
ALTER TABLE `incoming_transaction` ADD `export_batch_id` text;