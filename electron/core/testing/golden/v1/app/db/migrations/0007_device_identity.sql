CREATE TABLE `device_event` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`device_id` text NOT NULL,
	`action` text NOT NULL,
	`at` text NOT NULL,
	`actor` text NOT NULL,
	`detail` text
);
--> statement-breakpoint
CREATE INDEX `device_event_device` ON `device_event` (`device_id`);--> statement-breakpoint
ALTER TABLE `device` ADD `public_key` text;--> statement-breakpoint
ALTER TABLE `incoming_transaction` ADD `sig` text;--> statement-breakpoint
ALTER TABLE `outgoing_transaction` ADD `sig` text;--> statement-breakpoint
ALTER TABLE `pairing_code` ADD `device_id` text;--> statement-breakpoint
ALTER TABLE `pairing_code` ADD `role` text;--> statement-breakpoint
ALTER TABLE `pairing_code` ADD `purpose` text;