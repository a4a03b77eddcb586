"""The nouns and rules of Solo, with no I/O: sessions, revisions, changes, JSON values,
preconditions, the patch applier, storage keys, and the errors they raise (plain
exceptions with their data). Imports nothing of Solo but `solo.limits`."""
