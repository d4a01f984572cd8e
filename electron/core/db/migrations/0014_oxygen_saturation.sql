-- Schema 2: oxygen saturation on vital signs (older payloads are upcast with null: electron/core/domain/upcast.ts).
ALTER TABLE `vital_signs` ADD `oxygen_saturation` integer;
