ALTER TABLE `sync_conflict` ADD `resolution` text;--> statement-breakpoint
ALTER TABLE `sync_conflict` ADD `resolved_by` text;