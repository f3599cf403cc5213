// Package cli is the part of starlark-lsp's command package that Tilt calls: the `tilt lsp` command, which this build does not
// include, and the logger Tilt puts in every command's context for the language server's protocol code.
package cli

import (
	"errors"
	"io/fs"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/tilt-dev/starlark-lsp/pkg/document"
)

// ErrNotBuilt is what `tilt lsp` answers in this build.
var ErrNotBuilt = errors.New("the Starlark language server (tilt lsp) is not part of this build of Tilt: see scripts/ci/cluster-tools/tilt/README.md")

type RootCmd struct {
	*cobra.Command
}

func NewRootCmd(name string, _ func() fs.FS, _ ...document.ManagerOpt) *RootCmd {
	return &RootCmd{Command: &cobra.Command{
		Use:   name,
		Short: "not part of this build",
		RunE:  func(*cobra.Command, []string) error { return ErrNotBuilt },
	}}
}

// NewLogger gives the protocol code a logger that discards: only the language server would write to it.
func NewLogger() (*zap.Logger, func()) {
	return zap.NewNop(), func() {}
}
