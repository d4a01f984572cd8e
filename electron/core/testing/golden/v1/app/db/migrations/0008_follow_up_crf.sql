CREATE TABLE `follow_up` (
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
	`visit_code` text NOT NULL,
	`report_datetime` text NOT NULL,
	`weight_kg` real,
	`height_cm` real,
	`systolic` integer,
	`diastolic` integer,
	`pulse` integer,
	`temperature_c` real,
	`respiratory_rate` integer,
	`haemoglobin` real,
	`cd4_count` integer,
	`viral_load` integer,
	`on_art` text NOT NULL,
	`art_regimen` text,
	`adherence` text NOT NULL,
	`missed_doses` integer,
	`tb_symptoms` text NOT NULL,
	`pregnancy_status` text NOT NULL,
	`smoking` text NOT NULL,
	`last_menstrual_date` text,
	`next_appointment_date` text,
	`comment` text,
	`contact_name` text,
	`contact_name_hash` text,
	`contact_phone` text,
	`contact_phone_hash` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `follow_up_nk` ON `follow_up` (`subject_identifier`,`visit_code`);--> statement-breakpoint
-- The write guard of migration 0001 for the follow-up CRF: only the write path may change it.
CREATE TRIGGER `follow_up_guard_insert` BEFORE INSERT ON `follow_up` WHEN edc_write_guard() = 0 BEGIN SELECT RAISE(ABORT, 'WRITE_OUTSIDE_PATH: follow_up'); END;
--> statement-breakpoint
CREATE TRIGGER `follow_up_guard_update` BEFORE UPDATE ON `follow_up` WHEN edc_write_guard() = 0 BEGIN SELECT RAISE(ABORT, 'WRITE_OUTSIDE_PATH: follow_up'); END;
--> statement-breakpoint
CREATE TRIGGER `follow_up_guard_delete` BEFORE DELETE ON `follow_up` WHEN edc_write_guard() = 0 BEGIN SELECT RAISE(ABORT, 'WRITE_OUTSIDE_PATH: follow_up'); END;
