"""Cases that fail because of a known bug outside the backend under test.

Each entry is `(tests, case id pattern, reason)`: `tests` names the generic tests it applies
to ("forward", "grad", "composite"), the pattern is matched against the whole pytest id
(`backend-op-sample-dtype[-decomposed]`). They are marked `xfail(strict=True)`, so fixing
the bug turns the case into a failure until its entry is removed here.
"""

KNOWN_FAILURES: list[tuple[tuple[str, ...], str, str]] = []
