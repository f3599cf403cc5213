// Package document holds the document-manager options Tilt passes to the language server, and the two default resolvers
// it falls back on. Nothing calls them in this build, since the language server is not part of it.
package document

import (
	"os"

	"go.lsp.dev/uri"
)

type ReadDocumentFunc func(uri.URI) ([]byte, error)
type ResolveURIFunc func(uri.URI) (string, error)

type manager struct {
	readDocument ReadDocumentFunc
	resolveURI   ResolveURIFunc
}

type ManagerOpt func(*manager)

func WithReadDocumentFunc(f ReadDocumentFunc) ManagerOpt { return func(m *manager) { m.readDocument = f } }
func WithResolveURIFunc(f ResolveURIFunc) ManagerOpt     { return func(m *manager) { m.resolveURI = f } }

func ReadDocument(u uri.URI) ([]byte, error) { return os.ReadFile(u.Filename()) }

func ResolveURI(u uri.URI) (string, error) { return u.Filename(), nil }
