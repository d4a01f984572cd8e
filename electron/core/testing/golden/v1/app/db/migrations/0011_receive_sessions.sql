CREATE TABLE `receive_session` (
	`id` text PRIMARY KEY NOT NULL,
	`via` text NOT NULL,
	`device` text NOT NULL,
	`client_session` text,
	`label` text,
	`started_at` text NOT NULL,
	`last_at` text NOT NULL,
	`requests` integer DEFAULT 0 NOT NULL,
	`transactions` integer DEFAULT 0 NOT NULL,
	`producers` text DEFAULT '' NOT NULL
);
--> statement-breakpoint
CREATE INDEX `receive_session_last` ON `receive_session` (`last_at`);--> statement-breakpoint
CREATE INDEX `receive_session_device` ON `receive_session` (`device`,`last_at`);--> statement-breakpoint
CREATE UNIQUE INDEX `receive_session_client` ON `receive_session` (`device`,`client_session`);--> statement-breakpoint
ALTER TABLE `incoming_transaction` ADD `session_id` text;--> statement-breakpoint
CREATE INDEX `incoming_session` ON `incoming_transaction` (`session_id`,`batch_id`);--> statement-breakpoint
CREATE INDEX `incoming_problem_session` ON `incoming_transaction` (`session_id`) WHERE is_error = 1 OR is_conflict = 1 OR blocked_by IS NOT NULL OR (is_consumed = 0 AND deferred_count > 0);--> statement-breakpoint
-- What arrived before sessions: one session per earlier batch (request, pull or file), as the screen showed it.
UPDATE `incoming_transaction` SET `session_id` = coalesce(`batch_id`, 'legacy-' || `received_via`);
--> statement-breakpoint
INSERT OR IGNORE INTO `receive_session` (`id`, `via`, `device`, `label`, `started_at`, `last_at`, `requests`, `transactions`, `producers`)
  SELECT i.`session_id`, min(i.`received_via`), min(i.`producer`), (SELECT f.`file_name` FROM `file_import` f WHERE f.`batch_id` = i.`session_id` AND f.`status` = 'imported' LIMIT 1),
    min(i.`received_at`), max(i.`received_at`), 1, count(*), group_concat(DISTINCT i.`producer`)
  FROM `incoming_transaction` i GROUP BY i.`session_id`;
