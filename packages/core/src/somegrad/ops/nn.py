"""The composites that somegrad.nn builds on: losses, normalisation, convolution, pooling,
embedding and attention. They live in the core so that every backend and the conformance
suite see them without somegrad.nn installed."""
