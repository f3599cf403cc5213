// Package get is the downloader Tilt clones remote extension repositories with. In this build every download fails with
// ErrNoDownloads; extension repositories on the local filesystem (file:// URLs) do not use it and keep working.
package get

import (
	"errors"
	"io"
	"path/filepath"
)

var ErrNoDownloads = errors.New("this build of Tilt does not download extension repositories: see scripts/ci/cluster-tools/tilt/README.md")

type Downloader struct {
	// Stderr receives the download's progress in the real package; Tilt sets it, nothing writes to it here.
	Stderr  io.Writer
	baseDir string
}

func NewDownloader(baseDir string) *Downloader { return &Downloader{baseDir: baseDir} }

// DestinationPath is where a download would go, so Tilt can still find a repository that is already there.
func (d *Downloader) DestinationPath(pkg string) string { return filepath.Join(d.baseDir, filepath.FromSlash(pkg)) }

func (d *Downloader) Download(string) (string, error) { return "", ErrNoDownloads }

func (d *Downloader) HeadRef(string) (string, error) { return "", ErrNoDownloads }

func (d *Downloader) RefSync(string, string) error { return ErrNoDownloads }
