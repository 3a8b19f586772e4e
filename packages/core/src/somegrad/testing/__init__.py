"""Testing helpers shipped with somegrad: the conformance suite and `assert_close`."""
