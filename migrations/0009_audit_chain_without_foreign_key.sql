-- audit_chain.seq no longer references audit_events (seq). The foreign key checked
-- each sealed event with a query that also locked its audit_events row FOR KEY SHARE:
-- a write (and WAL) on the append-only table for every event, and ≈ 3 µs of the
-- sealer's ≈ 18 µs per event. It guarded nothing the design does not already: only
-- audit_seal() writes audit_chain, from events it has just read; audit_events refuses
-- UPDATE, DELETE and TRUNCATE; and `gate-api audit verify` reports a chained event
-- that is gone (event_missing) whichever way it went.
ALTER TABLE audit_chain DROP CONSTRAINT audit_chain_seq_fkey;
