# Sourced by the tool tests (tests/net/tools_test.sh,
# tests/net/kinesis_mock_tools.sh): pass and fail counts, and the test
# credentials in the environment, nothing else from it.
pass=0 fail=0
ok() { if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $*" >&2; fi; }
check() { # DESCRIPTION, then a shell condition
  local what=$1; shift
  if eval "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $what" >&2; fi
}
export AWS_ACCESS_KEY_ID=AKIDKINAGGTEST AWS_SECRET_ACCESS_KEY=kinagg/test/secret+KEY AWS_REGION=us-east-1
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_SECURITY_TOKEN AWS_ENDPOINT_URL
