// A stand-in for github.com/tilt-dev/starlark-lsp, which the checksum database does not know (see ../../README.md). Only
// `tilt lsp` uses it; this build of Tilt answers that command with an error and is otherwise unchanged.
module github.com/tilt-dev/starlark-lsp

go 1.20

require (
	github.com/spf13/cobra v1.6.1
	go.lsp.dev/uri v0.3.0
	go.uber.org/zap v1.24.0
)
