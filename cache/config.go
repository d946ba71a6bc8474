package cache

import (
	"errors"
	"fmt"
	"log/slog"
)

// Defaults applied by New to zero fields of Config.
const (
	DefaultSize       = 256 << 20 // bytes held in memory
	DefaultBlockSize  = 1 << 20   // bytes per cached block
	DefaultMaxFetches = 4         // fetches queued or running that read-ahead may fill up to
)

// BlockUnit is the granule of BlockSize: the kernel's FUSE read size, so that
// a kernel read never straddles more blocks than it must.
const BlockUnit = 128 << 10

// ErrInvalidConfig is wrapped by the error New returns for a bad Config.
var ErrInvalidConfig = errors.New("cache: invalid config")

// Config sets the cache's geometry. Zero fields take the defaults documented
// on each field.
type Config struct {
	// Size is the byte bound of the cached blocks, rounded down to whole
	// blocks; default DefaultSize. It must hold at least one request plus the
	// read-ahead window, or read-ahead would evict what it fetched before the
	// reader gets there.
	Size int64

	// BlockSize is the unit of caching, a positive multiple of BlockUnit;
	// default DefaultBlockSize.
	BlockSize int

	// RequestSize is the most bytes asked of the camera in one fetch, a
	// positive multiple of BlockSize; default BlockSize. A fetch fills several
	// consecutive blocks when RequestSize > BlockSize.
	RequestSize int

	// ReadAhead is how many bytes beyond a sequential reader's position are
	// fetched in the background; default 2*RequestSize, negative disables
	// read-ahead.
	ReadAhead int64

	// MaxFetches bounds read-ahead: it starts a fetch only while fewer than
	// MaxFetches are queued or running; default DefaultMaxFetches. A fetch
	// that a reader needs always starts.
	MaxFetches int

	// Concurrency is how many fetches are handed to the Source at once;
	// default 1. The camera serves one at a time, so more only moves the
	// queue into the Source, where the cache can no longer put a reader's
	// fetch ahead of read-ahead. Memory in flight is Concurrency times two
	// requests.
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
	if cfg.RequestSize == 0 {
		cfg.RequestSize = cfg.BlockSize
	}
	if cfg.ReadAhead == 0 {
		cfg.ReadAhead = 2 * int64(cfg.RequestSize)
	}
	if cfg.ReadAhead < 0 {
		cfg.ReadAhead = 0
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
	case cfg.MaxFetches < 0:
		return cfg, fmt.Errorf("%w: max fetches %d is negative", ErrInvalidConfig, cfg.MaxFetches)
	case cfg.Concurrency < 0:
		return cfg, fmt.Errorf("%w: concurrency %d is negative", ErrInvalidConfig, cfg.Concurrency)
	case cfg.Size < 0:
		return cfg, fmt.Errorf("%w: size %d is negative", ErrInvalidConfig, cfg.Size)
	}
	cfg.Size -= cfg.Size % int64(cfg.BlockSize)
	if need := int64(cfg.RequestSize) + roundUp(cfg.ReadAhead, int64(cfg.BlockSize)); cfg.Size < need {
		return cfg, fmt.Errorf("%w: size %d cannot hold one request (%d) plus the read-ahead (%d)", ErrInvalidConfig, cfg.Size, cfg.RequestSize, cfg.ReadAhead)
	}
	return cfg, nil
}

func roundUp(n, unit int64) int64 {
	return (n + unit - 1) / unit * unit
}
