#!/usr/bin/env bats
# The shortest complete transaction, end to end.

load helpers

setup() { common_setup; }
teardown() { common_teardown; }

@test "a message is stored with its envelope and body" {
	smtp 'EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nSubject: hi\r\n\r\nhello\r\n.\r\nQUIT\r\n'
	assert_equal "$status" 0
	assert_codes 220 250 "250 2.1.0" "250 2.1.5" 354 "250 2.0.0" "221 2.0.0"
	assert_equal "$(q 'SELECT helo, client_addr, protocol, mail_from FROM messages')" "client.example||ESMTP|a@example.org"
	assert_equal "$(q 'SELECT address FROM recipients')" "b@example.com"
	assert_body 1 'Subject: hi\r\n\r\nhello\r\n'
}
