//! OSV advisories: the database, matching a catalogue, reports.
