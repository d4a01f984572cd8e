-- Set aside, never drop (core/set-aside.ts): the decisions, a synced model, and when a received transaction was set aside.
CREATE TABLE `set_aside` (
	`id` text PRIMARY KEY NOT NULL,
	`created` text NOT NULL,
	`modified` text NOT NULL,
	`user_created` text NOT NULL,
	`user_modified` text NOT NULL,
	`hostname_created` text NOT NULL,
	`hostname_modified` text NOT NULL,
	`device_id` text NOT NULL,
	`revision` integer NOT NULL,
	`transaction_id` text NOT NULL,
	`producer` text NOT NULL,
	`producer_seq` integer NOT NULL,
	`tx_name` text NOT NULL,
	`tx_pk` text NOT NULL,
	`reason` text NOT NULL,
	`root_transaction_id` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `set_aside_nk` ON `set_aside` (`transaction_id`);--> statement-breakpoint
ALTER TABLE `incoming_transaction` ADD `set_aside_at` text;--> statement-breakpoint
-- Set-aside decisions are a synced model: only the write path may change them (as 0001_write_guard does for the others).
CREATE TRIGGER `set_aside_guard_insert` BEFORE INSERT ON `set_aside` WHEN edc_write_guard() = 0 BEGIN SELECT RAISE(ABORT, 'WRITE_OUTSIDE_PATH: set_aside'); END;
--> statement-breakpoint
CREATE TRIGGER `set_aside_guard_update` BEFORE UPDATE ON `set_aside` WHEN edc_write_guard() = 0 BEGIN SELECT RAISE(ABORT, 'WRITE_OUTSIDE_PATH: set_aside'); END;
--> statement-breakpoint
CREATE TRIGGER `set_aside_guard_delete` BEFORE DELETE ON `set_aside` WHEN edc_write_guard() = 0 BEGIN SELECT RAISE(ABORT, 'WRITE_OUTSIDE_PATH: set_aside'); END;
