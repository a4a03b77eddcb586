"""The nouns and rules of Solo, with no I/O: sessions, revisions, changes, JSON values,
preconditions and the patch applier. Imports only `solo.errors` and `solo.limits`."""
