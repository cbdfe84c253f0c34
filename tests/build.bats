#!/usr/bin/env bats
# The build: warning-free under gcc and clang.

load helpers

@test "gcc and clang compile every file without a warning" {
	run make -C "$REPO" -s warnings
	echo "$output"
	assert_equal "$status" 0
	assert_equal "$output" ""
}

@test "every C file is laid out as .clang-format says" {
	cd "$REPO"
	run clang-format --dry-run --Werror $(git ls-files '*.c' '*.h')
	echo "$output"
	assert_equal "$status" 0
}
