package cache

import (
	"errors"
	"fmt"
	"log/slog"
)

// Defaults applied by New to zero fields of Config.
const (
	DefaultSize      = 256 << 20 // bytes held in memory
	DefaultBlockSize = BlockUnit // bytes per cached block: a peek costs one small request
	// DefaultRequestSize is the bytes per sequential request before the link
	// is measured: what a WiFi or LAN link wants (docs/benchmarks.md, Notes).
	DefaultRequestSize    = 2 << 20
	DefaultMaxRequestSize = 16 << 20 // the largest request sized from the link
	DefaultMaxFetches     = 4        // fetches queued or running that read-ahead may fill up to
)

// minLinkRequest is the smallest request the link estimate asks for: on a
// link as fast as loopback the fit is noise, and 1 MiB costs it little.
const minLinkRequest = 1 << 20

// BlockUnit is the granule of BlockSize: the kernel's FUSE read size, so that
// a kernel read never straddles more blocks than it must.
const BlockUnit = 128 << 10

// ErrInvalidConfig is wrapped by the error New returns for a bad Config.
var ErrInvalidConfig = errors.New("cache: invalid config")

// Config sets the cache's geometry. Zero fields take the defaults documented
// on each field.
type Config struct {
	// Size is the byte bound of the cached blocks, rounded down to whole
	// blocks; default DefaultSize. It must hold one request plus the
	// read-ahead window.
	Size int64

	// BlockSize is the unit of caching, a positive multiple of BlockUnit;
	// default DefaultBlockSize.
	BlockSize int

	// RequestSize is the bytes of one sequential fetch until the link has
	// been measured, a multiple of BlockSize; default DefaultRequestSize, at
	// most a quarter of Size.
	RequestSize int

	// MaxRequestSize bounds the request size derived from the link, a
	// multiple of BlockSize not below RequestSize; default
	// DefaultMaxRequestSize (at most a quarter of Size) when RequestSize is
	// zero, else RequestSize, which fixes the request size.
	MaxRequestSize int

	// ReadAhead bounds a reader's window of read-ahead (Reader): default
	// the request size, negative none. A reader has at most two windows
	// beyond it: the one it reads into and the next.
	ReadAhead int64

	// MaxFetches bounds the fetches queued or running that read-ahead adds
	// to; default DefaultMaxFetches. A fetch a reader needs always starts.
	MaxFetches int

	// Concurrency is how many fetches are handed to the Source at once;
	// default 1: the camera serves one at a time, and the queue stays here,
	// where a reader's fetch can go ahead of read-ahead.
	Concurrency int

	// Logger receives debug records of fetches; default discards.
	Logger *slog.Logger
}

// withDefaults returns cfg with zero fields set to their defaults, or an
// error wrapping ErrInvalidConfig.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.Size == 0 {
		cfg.Size = DefaultSize
	}
	if cfg.BlockSize == 0 {
		cfg.BlockSize = DefaultBlockSize
	}
	if cfg.MaxFetches == 0 {
		cfg.MaxFetches = DefaultMaxFetches
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = 1
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	switch {
	case cfg.BlockSize < 0 || cfg.BlockSize%BlockUnit != 0:
		return cfg, fmt.Errorf("%w: block size %d is not a positive multiple of %d", ErrInvalidConfig, cfg.BlockSize, BlockUnit)
	case cfg.RequestSize < 0 || cfg.RequestSize%cfg.BlockSize != 0:
		return cfg, fmt.Errorf("%w: request size %d is not a positive multiple of the block size %d", ErrInvalidConfig, cfg.RequestSize, cfg.BlockSize)
	case cfg.MaxRequestSize < 0 || cfg.MaxRequestSize%cfg.BlockSize != 0:
		return cfg, fmt.Errorf("%w: max request size %d is not a positive multiple of the block size %d", ErrInvalidConfig, cfg.MaxRequestSize, cfg.BlockSize)
	case cfg.MaxFetches < 0:
		return cfg, fmt.Errorf("%w: max fetches %d is negative", ErrInvalidConfig, cfg.MaxFetches)
	case cfg.Concurrency < 0:
		return cfg, fmt.Errorf("%w: concurrency %d is negative", ErrInvalidConfig, cfg.Concurrency)
	case cfg.Size < 0:
		return cfg, fmt.Errorf("%w: size %d is negative", ErrInvalidConfig, cfg.Size)
	}
	bs := int64(cfg.BlockSize)
	cfg.Size -= cfg.Size % bs
	// Room for a request, its stretch and two requests of read-ahead.
	quarter := max(bs, cfg.Size/4/bs*bs)
	if cfg.RequestSize == 0 {
		cfg.RequestSize = int(min(quarter, roundUp(DefaultRequestSize, bs)))
		if cfg.MaxRequestSize == 0 {
			cfg.MaxRequestSize = int(min(quarter, DefaultMaxRequestSize/bs*bs))
		}
	}
	if cfg.MaxRequestSize < cfg.RequestSize {
		cfg.MaxRequestSize = cfg.RequestSize
	}
	if cfg.ReadAhead < 0 {
		cfg.ReadAhead = -1
	}
	ahead := 2 * cfg.ReadAhead // two windows
	if ahead == 0 {
		ahead = 2 * int64(cfg.RequestSize)
	}
	if need := int64(cfg.RequestSize) + roundUp(max(ahead, 0), bs); cfg.Size < need {
		return cfg, fmt.Errorf("%w: size %d cannot hold one request (%d) plus the read-ahead (%d)", ErrInvalidConfig, cfg.Size, cfg.RequestSize, ahead)
	}
	return cfg, nil
}

func roundUp(n, unit int64) int64 {
	return (n + unit - 1) / unit * unit
}
