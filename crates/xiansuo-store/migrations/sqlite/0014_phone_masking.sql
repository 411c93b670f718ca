-- Users who see phone numbers masked (138****5678) everywhere: lists, records, history, exports.
ALTER TABLE users ADD COLUMN mask_phones BIGINT NOT NULL DEFAULT 0;
