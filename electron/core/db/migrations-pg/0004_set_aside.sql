-- Set aside, never drop (core/set-aside.ts): the decisions, a synced model, and when a received transaction was set aside.
CREATE TABLE "set_aside" (
	"id" text PRIMARY KEY NOT NULL,
	"created" text NOT NULL,
	"modified" text NOT NULL,
	"user_created" text NOT NULL,
	"user_modified" text NOT NULL,
	"hostname_created" text NOT NULL,
	"hostname_modified" text NOT NULL,
	"device_id" text NOT NULL,
	"revision" bigint NOT NULL,
	"transaction_id" text NOT NULL,
	"producer" text NOT NULL,
	"producer_seq" bigint NOT NULL,
	"tx_name" text NOT NULL,
	"tx_pk" text NOT NULL,
	"reason" text NOT NULL,
	"root_transaction_id" text
);
--> statement-breakpoint
ALTER TABLE "incoming_transaction" ADD COLUMN "set_aside_at" text;--> statement-breakpoint
CREATE UNIQUE INDEX "set_aside_nk" ON "set_aside" USING btree ("transaction_id");--> statement-breakpoint
-- Set-aside decisions are a synced model: only the write path may change them (as 0001_write_guard does for the others).
CREATE TRIGGER "set_aside_guard" BEFORE INSERT OR UPDATE OR DELETE ON "set_aside" FOR EACH ROW EXECUTE FUNCTION edc_guard();
--> statement-breakpoint
CREATE TRIGGER "set_aside_no_truncate" BEFORE TRUNCATE ON "set_aside" FOR EACH STATEMENT EXECUTE FUNCTION edc_no_truncate();
--> statement-breakpoint
-- For the analysts: the decisions beside the other models (README, "Central on PostgreSQL").
CREATE VIEW analysis.set_aside AS SELECT * FROM public.set_aside;
