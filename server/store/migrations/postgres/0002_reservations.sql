-- Reservations: a sign-in attempt, a re-authentication or a code sent is
-- recorded before the slow work it allows, under a reference (ref) that
-- lets the request release it afterwards (a right password). A lock
-- remembers the reservation that set it, so that releasing that one lifts
-- the lock too.
ALTER TABLE failures ADD COLUMN ref text NOT NULL DEFAULT '';
ALTER TABLE locks ADD COLUMN ref text NOT NULL DEFAULT '';
ALTER TABLE sends ADD COLUMN ref text NOT NULL DEFAULT '';
CREATE INDEX failures_by_ref ON failures (key, ref);
CREATE INDEX sends_by_ref ON sends (destination, ref);
