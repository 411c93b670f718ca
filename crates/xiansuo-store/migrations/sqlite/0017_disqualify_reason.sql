-- Why a lead was disqualified (无效原因), asked for when people set the status 无效 in bulk.
ALTER TABLE leads ADD COLUMN disqualify_reason TEXT;
