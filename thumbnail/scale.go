package thumbnail

import (
	"image"
	"image/color"
)

// NormalSize is the longer side of a "normal" thumbnail, at most.
const NormalSize = 128

// scale returns src shrunk so that its longer side is at most limit pixels,
// keeping its aspect ratio, by a box filter: each output pixel is the
// average of the source area it covers, partial pixels weighted by how
// much of them it covers. An image already small enough is only
// converted. The result is opaque or not as src is. It reads src one row
// at a time and holds only the output's sums, so its memory is that of
// the output, whatever the input's size.
func scale(src image.Image, limit int) *image.NRGBA {
	b := src.Bounds()
	sw, sh := b.Dx(), b.Dy()
	dw, dh := sw, sh
	if sw > limit || sh > limit {
		if sw >= sh {
			dw, dh = limit, (sh*limit+sw/2)/sw
		} else {
			dw, dh = (sw*limit+sh/2)/sh, limit
		}
		dw, dh = max(dw, 1), max(dh, 1)
	}
	cols := boxWeights(sw, dw)
	// rowsOf[sy] lists the output rows source row sy falls in.
	rowsOf := make([][]weight, sh)
	for dy, rw := range boxWeights(sh, dh) {
		for _, w := range rw {
			rowsOf[w.i] = append(rowsOf[w.i], weight{dy, w.w})
		}
	}
	// Premultiplied 16-bit samples, so that transparent pixels do not
	// darken the average; sums[dy*dw+dx] is output pixel (dx, dy)'s.
	sums := make([][4]float64, dw*dh)
	totals := make([]float64, dw*dh)
	row := make([][4]float64, sw)
	for sy := range sh {
		for x := range sw {
			r, g, bl, a := src.At(b.Min.X+x, b.Min.Y+sy).RGBA()
			row[x] = [4]float64{float64(r), float64(g), float64(bl), float64(a)}
		}
		for _, wy := range rowsOf[sy] {
			for dx, cw := range cols {
				i := wy.i*dw + dx
				for _, wx := range cw {
					w := wy.w * wx.w
					p := row[wx.i]
					for c := range 4 {
						sums[i][c] += w * p[c]
					}
					totals[i] += w
				}
			}
		}
	}
	dst := image.NewNRGBA(image.Rect(0, 0, dw, dh))
	for i, sum := range sums {
		total := totals[i]
		a := sum[3] / total
		var out color.NRGBA
		if a > 0 {
			out = color.NRGBA{
				R: to8(sum[0] / total * 0xFFFF / a),
				G: to8(sum[1] / total * 0xFFFF / a),
				B: to8(sum[2] / total * 0xFFFF / a),
				A: to8(a),
			}
		}
		dst.SetNRGBA(i%dw, i/dw, out)
	}
	return dst
}

// weight is a source index and how much of it an output pixel covers.
type weight struct {
	i int
	w float64
}

// boxWeights maps each of n output pixels to the source pixels (of src)
// it covers and by how much.
func boxWeights(src, n int) [][]weight {
	out := make([][]weight, n)
	step := float64(src) / float64(n)
	for d := range n {
		lo, hi := float64(d)*step, float64(d+1)*step
		for s := int(lo); s < src && float64(s) < hi; s++ {
			w := min(hi, float64(s+1)) - max(lo, float64(s))
			if w > 1e-9 {
				out[d] = append(out[d], weight{s, w})
			}
		}
	}
	return out
}

// to8 turns a 16-bit sample into 8 bits, rounded and clamped.
func to8(v float64) uint8 {
	v = v/257 + 0.5
	switch {
	case v <= 0:
		return 0
	case v >= 255:
		return 255
	}
	return uint8(v)
}
