CREATE TABLE `device` (
	`device_id` text PRIMARY KEY NOT NULL,
	`role` text NOT NULL,
	`token_hash` text NOT NULL,
	`paired_at` text NOT NULL,
	`revoked_at` text,
	`last_seen_at` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `device_token_hash` ON `device` (`token_hash`);--> statement-breakpoint
CREATE TABLE `pairing_code` (
	`code_hash` text PRIMARY KEY NOT NULL,
	`created_at` text NOT NULL,
	`expires_at` text NOT NULL,
	`used_at` text,
	`used_by` text
);
--> statement-breakpoint
ALTER TABLE `incoming_transaction` ADD `forwarded_at` text;