-- When a lead was disqualified: set when its status becomes disqualified, or taken from the
-- file when an import brings a lead disqualified in the system it came from (as converted_at
-- is for converted leads). Outcomes and their dates are what the win prediction learns from.
ALTER TABLE leads ADD COLUMN disqualified_at BIGINT;

-- What a new lead does when it only probably duplicates a record (the same name at the same
-- company, no phone, email or external id in common), per source ('*': any other source).
-- Sources without a row follow the built-in default: create it, flagged for review.
CREATE TABLE dedup_probable_policies (
    source TEXT PRIMARY KEY,
    policy TEXT NOT NULL,
    updated_by BIGINT REFERENCES users (id),
    updated_at BIGINT NOT NULL
);
