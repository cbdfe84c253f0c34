# tests/net_helpers.bash - merged into tests/helpers.bash.  Kept only so
# that a test file still saying "load net_helpers" (after "load helpers")
# keeps working; new test files load helpers alone.
