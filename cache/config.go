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
	// DefaultRequestSize is the bytes per request before the link is
	// measured: 2 MiB, because both links the project measures want more
	// than 1 MiB (32 round trips are 1.9 MB on a 3 MB/s, 20 ms WiFi link,
	// 2.6 MB on a 40 MB/s, 2 ms LAN), and a photo of 2-3 MB then comes in
	// two requests on a fresh mount (the first read's block, then the rest
	// within the one-and-a-half stretch) rather than three.
	DefaultRequestSize    = 2 << 20
	DefaultMaxRequestSize = 16 << 20 // the largest request sized from the link
	DefaultMaxFetches     = 4        // fetches queued or running that read-ahead may fill up to
)

// minLinkRequest is the smallest request the link estimate asks for. On a
// fast link with a tiny round trip (loopback, USB-like) the fit is mostly
// scheduling noise and may say almost nothing; 1 MiB costs such a link
// little and keeps the request count down. Small reads are kept small by
// the first-read rule, not by this.
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
	// blocks; default DefaultSize. It must hold at least one request plus the
	// read-ahead window, or read-ahead would evict what it fetched before the
	// reader gets there.
	Size int64

	// BlockSize is the unit of caching, a positive multiple of BlockUnit;
	// default DefaultBlockSize.
	BlockSize int

	// RequestSize is the bytes asked of the camera in one sequential fetch
	// until the link has been measured, a positive multiple of BlockSize;
	// default DefaultRequestSize, or less when Size is small (at most a
	// quarter of it). A fetch fills several consecutive blocks when
	// RequestSize > BlockSize.
	RequestSize int

	// MaxRequestSize bounds the request size derived from the measured link
	// (see linkEstimate), a multiple of BlockSize not below RequestSize.
	// Default DefaultMaxRequestSize, at most a quarter of Size, when
	// RequestSize is left zero; RequestSize when RequestSize is set. Equal to
	// RequestSize, requests keep that size: the link estimate is only shown.
	MaxRequestSize int

	// ReadAhead is how many bytes beyond a sequential reader's position are
	// fetched in the background; default (zero) twice the current request
	// size, so the next request is always queued when one finishes;
	// negative disables read-ahead.
	ReadAhead int64

	// MaxFetches bounds read-ahead: it starts a fetch only while fewer than
	// MaxFetches are queued or running; default DefaultMaxFetches. A fetch
	// that a reader needs always starts.
	MaxFetches int

	// Concurrency is how many fetches are handed to the Source at once;
	// default 1. The camera serves one at a time, so more only moves the
	// queue into the Source, where the cache can no longer put a reader's
	// fetch ahead of read-ahead. Memory in flight is Concurrency times one
	// and a half of the largest request.
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
	// The defaults of the request sizes leave the cache room for a request,
	// the rest-of-file stretch of one and a half, and two requests of
	// read-ahead.
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
	ahead := cfg.ReadAhead
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
