import { defineConfig } from 'drizzle-kit';

/** PostgreSQL migrations (the central store's option), generated from schema-pg.ts, itself derived from schema.ts. */
export default defineConfig({
  dialect: 'postgresql',
  schema: './electron/core/db/schema-pg.ts',
  out: './electron/core/db/migrations-pg',
});
