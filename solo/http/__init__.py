"""What handlers share about HTTP messages: a write's precondition from its headers and
the headers of its answer, the wire form of domain objects, and absolute URLs."""
